"""Label-free test of whether vectors form clusters: agreement of k-means restarts (used by ``auto``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from datadiet._core import derived_seed
from datadiet._core._hashing import uniform_keys
from datadiet.index._kmeans import kmeans

__all__ = ["adjusted_rand", "cluster_stability", "STABILITY_KS", "STABILITY_RUNS", "STABILITY_SAMPLE"]

#: Cluster counts whose restart agreement is averaged.
STABILITY_KS = (5, 10, 20)
#: k-means runs per ``k``; every pair of runs is compared.
STABILITY_RUNS = 3
#: Rows (chosen by ``(seed, id)`` hash) the two clusterings are fitted and compared on.
STABILITY_SAMPLE = 4000


def adjusted_rand(a: np.ndarray, b: np.ndarray) -> float:
    """Adjusted Rand index of two labelings of the same rows (1: identical partitions, ~0: unrelated).

    Examples
    --------
    >>> adjusted_rand(np.array([0, 0, 1, 1]), np.array([1, 1, 0, 0]))
    1.0
    """
    a = np.unique(np.asarray(a), return_inverse=True)[1].ravel()
    b = np.unique(np.asarray(b), return_inverse=True)[1].ravel()
    n = len(a)
    if n < 2:
        return 1.0
    table = np.bincount(a * (int(b.max()) + 1) + b).astype(np.float64)

    def pairs(c: np.ndarray) -> float:
        return float((c * (c - 1) / 2).sum())

    both = pairs(table)
    ra, rb = pairs(np.bincount(a).astype(np.float64)), pairs(np.bincount(b).astype(np.float64))
    expected = ra * rb / (n * (n - 1) / 2)
    top = (ra + rb) / 2
    if top == expected:
        return 1.0
    return float((both - expected) / (top - expected))


def cluster_stability(vectors: Any, ids: Any, metric: str, seed: int, niter: int = 20) -> dict[str, Any]:
    """How reproducible k-means clusters are: mean adjusted Rand index of k-means restarts.

    On up to :data:`STABILITY_SAMPLE` rows chosen by ``(seed, id)`` hash, k-means (spherical for the
    cosine metric) is run :data:`STABILITY_RUNS` times with different seeds for every ``k`` in
    :data:`STABILITY_KS` that leaves at least 10 rows per cluster, and every pair of labelings is
    compared with the adjusted Rand index. Separated clusters are found again by every run (high
    agreement); a continuum is cut differently each time (low agreement). Measured over 20 seeds
    (BENCHMARKS.md): Fashion-MNIST PCA-64 0.617-0.749, BBC News MiniLM 0.548-0.728, Rotten Tomatoes
    MiniLM 0.323-0.463.

    Returns ``{"stability": float, "ks": [...], "rows": int}``; ``stability`` is 0.0 when fewer than
    50 rows or too few distinct vectors leave nothing to compare.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> blobs = np.concatenate([rng.normal(c, 0.05, size=(100, 2)) for c in range(5)])
    >>> cluster_stability(blobs, np.arange(500), "l2", 0)["stability"] > 0.5
    True
    """
    n = len(vectors)
    m = min(n, STABILITY_SAMPLE)
    rows = np.sort(np.argsort(uniform_keys(ids, derived_seed(seed, "auto-stability")), kind="stable")[:m])
    sample = np.asarray(vectors[rows], dtype=np.float32)
    sample_ids = np.asarray(ids)[rows] if ids is not None else rows
    ks = [k for k in STABILITY_KS if 10 * k <= m]
    scores = []
    for k in ks:
        try:
            runs = [kmeans(sample, k, spherical=metric == "cosine", seed=derived_seed(seed, f"auto-stability-{k}-{r}"),
                           niter=niter, ids=sample_ids, max_train=m).labels for r in range(STABILITY_RUNS)]
        except ValueError as e:  # fewer distinct vectors than k: no clusters to compare
            if "distinct" not in str(e):
                raise
            continue
        scores += [adjusted_rand(runs[i], runs[j]) for i in range(len(runs)) for j in range(i)]
    return {"stability": round(float(np.mean(scores)), 6) if scores else 0.0, "ks": ks, "rows": m}
