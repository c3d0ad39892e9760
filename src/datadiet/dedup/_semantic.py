"""Semantic duplicates: greedy keep over cosine >= threshold, streamed in keep order (no pair list).

Embeddings are L2-normalised; spherical k-means (:func:`datadiet.index.kmeans`)
cuts the space into cells of a faiss IVF index. Rows are visited in keep order in
batches; each batch is searched against the rows kept so far (in the ``n_probe``
cells nearest to each row) and within itself, and a row is dropped when it is at
or above the threshold to an earlier kept row (:mod:`datadiet.dedup._stream`).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from datadiet._core import Param, register, uniform_keys
from datadiet._core._errors import DataError
from datadiet._core._rows import require_finite_rows
from datadiet.dedup._base import KEEP_PARAMS, BaseDedup, Combined

__all__ = ["SemanticDedup", "SemanticThresholdWarning", "random_pair_cosines", "greedy_links",
           "MEASURED_THRESHOLDS"]

#: Pairs of random rows whose cosine is measured before deduplicating, and the share of them at or
#: above the threshold from which a warning is given (unrelated texts would be called duplicates).
RANDOM_PAIRS = 20000
WARN_SHARE = 1e-3

#: Per-encoder default thresholds, measured on real corpora (docs/dedup.md, "Choosing the threshold";
#: bench/semantic_thresholds.py): the 99.99th percentile of random-pair cosines of BBC News and of
#: Rotten Tomatoes reviews, rounded up to 0.01, never below 0.95.
MEASURED_THRESHOLDS: dict[str, float] = {"hashed": 0.95, "static": 0.96, "minilm": 0.95}

#: Default nearest cells a row is searched in (dropped-set F1 against the exact greedy measured in
#: BENCHMARKS.md, section (b)).
N_PROBE = 32


class SemanticThresholdWarning(UserWarning):
    """The semantic-dedup threshold is inside the cosine distribution of random pairs."""


def random_pair_cosines(x: np.ndarray, ids: Any, seed: int, n_pairs: int = RANDOM_PAIRS,
                        sample: int = 4096) -> np.ndarray:
    """Cosines of ``n_pairs`` random pairs of distinct, non-identical rows of unit-norm ``x``.

    The rows are a sample of at most ``sample`` chosen by ``(seed, id)`` keys, so the
    measurement does not depend on row order. Identical vectors (exact duplicates)
    are left out: the measurement is of unrelated rows.

    Examples
    --------
    >>> x = np.eye(3, dtype=np.float32)
    >>> random_pair_cosines(x, np.arange(3), seed=0, n_pairs=5).tolist()
    [0.0, 0.0, 0.0, 0.0, 0.0]
    """
    from datadiet._core import derived_seed, uniform_keys
    from datadiet.index._kmeans import row_hashes

    n = x.shape[0]
    if n < 2:
        return np.zeros(0, np.float32)
    rows = np.argsort(uniform_keys(ids, derived_seed(seed, "random-pairs")), kind="stable")[:sample]
    xs = np.asarray(x[np.sort(rows)], dtype=np.float32)
    h = row_hashes(xs)
    rng = np.random.default_rng(derived_seed(seed, "random-pairs-draw"))
    m = xs.shape[0]
    a = rng.integers(0, m, n_pairs)
    b = rng.integers(0, m - 1, n_pairs)
    b += b >= a
    keep = h[a] != h[b]
    a, b = a[keep], b[keep]
    return np.einsum("ij,ij->i", xs[a], xs[b]).astype(np.float32)


def _threshold_check(cos: np.ndarray, threshold: float) -> dict[str, Any]:
    """Quantiles of random-pair cosines and the share at or above ``threshold``; warns when it is large."""
    if cos.size == 0:
        return {}
    q = np.quantile(cos, [0.5, 0.99, 0.999])
    share = float((cos >= threshold).mean())
    out: dict[str, Any] = {"random_pair_cosine_p50": round(float(q[0]), 4), "random_pair_cosine_p99": round(float(q[1]), 4),
           "random_pair_cosine_p999": round(float(q[2]), 4), "random_pairs_above_threshold": share,
           "random_pairs_measured": int(cos.size)}
    if share > WARN_SHARE:
        safe = float(np.ceil(np.quantile(cos, 1 - WARN_SHARE / 10) * 100) / 100)
        msg = (f"semantic threshold {threshold} is inside the cosine distribution of random pairs under these "
               f"embeddings: {100 * share:.2g}% of {cos.size:,} random pairs are >= {threshold} (99.9th "
               f"percentile {q[2]:.3f}), so unrelated texts will be dropped as duplicates; raise it to about "
               f"{min(safe, 1.0):.2f} or use a stronger model (see docs/dedup.md)")
        out["warning"] = msg
        warnings.warn(msg, SemanticThresholdWarning, stacklevel=2)
    return out


def _default_cells(n: int) -> int:
    """IVF cells for ``n`` searched rows: ``2 * sqrt(n)`` (measured in BENCHMARKS.md, section (b))."""
    return max(1, int(round(2 * np.sqrt(n))))


class SemanticStage:
    name = "semantic"
    iterate = False

    def __init__(self, owner: SemanticDedup, seed: int) -> None:
        self.o = owner
        self.seed = seed
        self.metrics: dict[str, Any] = {}
        self.links_found: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.centroids: np.ndarray | None = None  # given: reuse this clustering (rethreshold)

    def links(self, comb: Combined, active: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from datadiet.dedup._stream import (
            identical_groups,
            ivf_index,
            stream_components,
            stream_greedy,
        )
        from datadiet.index import kmeans
        from datadiet.index._kmeans import _normalize_rows, take_rows

        if comb.sig.vectors is None:
            raise DataError("semantic dedup needs embeddings: name a --vectors column or give --model")
        if self.o.search_threshold is not None:
            warnings.warn("SemanticDedup: search_threshold is deprecated and has no effect: no pairs are stored, "
                          "rethreshold() searches again at any threshold; drop the parameter",
                          FutureWarning, stacklevel=2)
        t = float(self.o.threshold)
        rows = np.flatnonzero(active)
        x = take_rows(comb.sig.vectors, rows, dtype=np.float32)  # the one full-size copy, normalised in place
        ids = comb.sig.ids.take(rows)
        require_finite_rows(x, ids)
        _normalize_rows(x)
        check = _threshold_check(random_pair_cosines(x, ids, self.seed), t)
        order = np.argsort(rank[rows], kind="stable")
        protected = rows >= comb.n_train
        centroids = self.centroids
        if centroids is None:
            reps, _ = identical_groups(x, order)
            k = self.o.n_clusters if self.o.n_clusters is not None else _default_cells(reps.size)
            k = int(min(k, reps.size))
            if k > 1:  # fit on an id-keyed sample of the distinct rows only (order-free, no full-size copy)
                m = min(reps.size, TRAIN_PER_CELL * k)
                keys = uniform_keys(ids.take(reps), self.seed)
                sample = reps[np.argpartition(keys, m - 1)[:m]] if m < reps.size else reps
                centroids = kmeans(x[sample], k, spherical=True, seed=self.seed, ids=ids.take(sample),
                                   max_train=m).centroids
            else:
                centroids = np.zeros((1, x.shape[1]), np.float32)
                centroids[0, 0] = 1.0
            del reps
        self.centroids = centroids
        k = centroids.shape[0]
        probe = k if self.o.n_probe == "all" else int(min(self.o.n_probe, k))
        index = ivf_index(centroids, probe)
        if self.o.linkage == "components":
            a, b, info = stream_components(x, order, t, index)
            s = np.einsum("ij,ij->i", x[a], x[b]) if a.size else np.zeros(0, np.float32)
        else:
            res = stream_greedy(x, order, protected, t, index)
            a, b, s, info = res.dropped, res.link, res.similarity, res.metrics
        del index, x
        a, b = rows[a], rows[b]
        self.links_found = (a, b, s)
        self.metrics = {"semantic_clusters": k, "semantic_probes": probe, **info,
                        "semantic_links": int(a.size),
                        **{f"semantic_{k2}": v for k2, v in check.items()},
                        "semantic_near_threshold": _near_threshold(comb, b, a, s, t)}
        return a, b


#: Rows of the k-means sample per IVF cell (the cells only route the search; more rows change little).
TRAIN_PER_CELL = 64


def _near_threshold(comb: Combined, a: np.ndarray, b: np.ndarray, s: np.ndarray, t: float,
                    k: int = 5) -> list[dict[str, Any]]:
    """The ``k`` linked pairs closest above the threshold (ids and cosine), for the report."""
    above = np.flatnonzero(s >= t)
    pick = above[np.argsort(s[above], kind="stable")[:k]]
    ids = comb.sig.ids
    return [{"a": ids[int(a[i])].as_py(), "b": ids[int(b[i])].as_py(), "cosine": round(float(s[i]), 4)}
            for i in pick]


def greedy_links(a: np.ndarray, b: np.ndarray, rank: np.ndarray,
                 n_train: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """SemDeDup-style greedy keep: in keep order, a row is dropped when it is linked to an already kept row.

    Returns one link per dropped row (to the best-ranked kept row it is linked to),
    so duplicate clusters are stars around a kept row and never chain through rows
    that are below the threshold to each other. Rows at or after ``n_train`` (an
    evaluation set in cross-set mode) are never dropped.

    Examples
    --------
    >>> a, b = np.array([0, 1]), np.array([1, 2])      # 0~1 and 1~2, but 0 and 2 are not alike
    >>> greedy_links(a, b, rank=np.array([0, 1, 2]))   # 1 goes (duplicate of 0); 2 stays
    (array([1]), array([0]))
    """
    if a.size == 0:
        return a, b
    nodes, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
    la, lb = inv[: a.size], inv[a.size:]
    src = np.concatenate([la, lb])
    dst = np.concatenate([lb, la])
    order = np.lexsort((rank[nodes][dst], src))  # neighbours of each node, best-ranked first
    src, dst = src[order], dst[order]
    start = np.searchsorted(src, np.arange(nodes.size + 1))
    kept = np.zeros(nodes.size, dtype=bool)
    protected = nodes >= n_train if n_train is not None else kept
    to = np.full(nodes.size, -1, dtype=np.int64)
    for v in np.argsort(rank[nodes], kind="stable").tolist():
        nb = dst[start[v]:start[v + 1]]
        hit = nb[kept[nb]]
        if hit.size and not protected[v]:
            to[v] = hit[0]
        else:
            kept[v] = True
    dropped = np.flatnonzero(to >= 0)
    return nodes[dropped], nodes[to[dropped]]


@register("dedup")
class SemanticDedup(BaseDedup):
    """Drop semantic duplicates: a row goes when its embedding has cosine >= threshold to an earlier kept row.

    Rows are visited in keep order (``keep``) in batches; each batch is searched
    against the rows kept so far (a faiss IVF index over spherical k-means cells
    that grows as rows are kept) and then within itself, so every dropped row is
    at or above the threshold to the kept row named in ``duplicate_of`` (greedy
    keep, as in SemDeDup and semhash) and no list of pairs is held. A row is
    searched in its ``n_probe`` nearest cells; ``n_probe="all"`` is an exact search.
    Sets ``pairs_`` (each dropped row and the kept row it duplicates, positions)
    and ``similarities_`` (their cosines).

    Examples
    --------
    >>> import numpy as np
    >>> v = np.array([[1.0, 0.0], [0.999, 0.04], [0.0, 1.0]])
    >>> d = SemanticDedup(threshold=0.99, n_clusters=1).fit(vectors=v)
    >>> d.selection_.counts(), d.duplicate_of_.tolist()
    ({'kept': 2, 'duplicate': 1}, [-1, 0, -1])
    """

    method = "semantic"
    engines = ("local", "ray")  # per-row passes (reading, signatures, embedding) are engine steps
    requires = ("vectors",)
    _reuse_centroids: np.ndarray | None = None  # set on rethreshold()'s clone: search with the fitted cells

    params = (
        Param("threshold", "float", 0.95, "cosine similarity above which two rows are duplicates (SemDeDup's 1 - eps)",
              low=-1, high=1),
        Param("n_clusters", "int", None, "k-means cells of the search index (default 2 * sqrt(n)); a row is "
              "searched in its n_probe nearest cells", low=1, none=True),
        Param("search_threshold", "float", None, "deprecated, no effect: no pairs are stored any more (rethreshold() "
              "searches again at any threshold); a FutureWarning when given", low=-1, high=1, none=True),
        *KEEP_PARAMS,
        Param("linkage", "choice", "greedy", "greedy: drop a row linked to an already kept row (SemDeDup); "
              "components: keep one row per connected component", choices=("greedy", "components")),
        Param("n_probe", "int", N_PROBE, "nearest k-means cells a row is searched in ('all': exact search)",
              low=1, also=("all",)),
    )

    def _stages(self, seed: int) -> list[Any]:
        stage = SemanticStage(self, seed)
        stage.centroids = self._reuse_centroids
        self._stage = stage
        return [stage]

    def fit(self, signals: Any = None, /, *, against: Any = None, **arrays: Any) -> SemanticDedup:
        super().fit(signals, against=against, **arrays)
        a, b, s = self._stage.links_found  # type: ignore[misc]
        self.pairs_ = np.stack([a, b], axis=1)
        self.similarities_ = s
        self._centroids = self._stage.centroids
        self._fit_input = (signals, against, arrays)
        return self

    def rethreshold(self, threshold: float) -> Any:
        """The selection at another cosine ``threshold``, searching again with the fitted clustering and seed.

        No pairs are stored by the fit (that was what bounded its memory), so this
        runs the streaming search once more: the result equals a fresh ``fit`` at
        ``threshold`` with the same seed. Returns a :class:`~datadiet.Selection`; the
        fitted state is unchanged.
        """
        if not hasattr(self, "pairs_"):
            raise DataError("call fit before rethreshold")
        type(self).declared()["threshold"].check(threshold, type(self).__name__)
        clone = type(self)(**{**self.get_params(), "threshold": threshold, "search_threshold": None,
                              "seed": self.seed_})
        clone._reuse_centroids = self._centroids
        signals, against, arrays = self._fit_input
        clone.fit(signals, against=against, **arrays)
        return clone.selection_
