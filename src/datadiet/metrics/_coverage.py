"""Coverage of a selection in embedding space: clusters covered, distance to nearest kept, diversity."""

from __future__ import annotations

from typing import Any

import numpy as np

from datadiet._core._rows import unit_rows

__all__ = ["coverage_metrics"]


def coverage_metrics(vectors: np.ndarray, selected: np.ndarray, *, labels: np.ndarray | None = None,
                     metric: str = "cosine", keys: np.ndarray | None = None,
                     max_rows: int = 20000, max_pairs_rows: int = 1000, distances: bool = True) -> dict[str, Any]:
    """How well ``selected`` rows cover ``vectors``.

    Returns ``clusters_covered`` (fraction of the non-empty clusters in ``labels``
    with at least one selected row), ``mean_distance_to_selected`` (mean distance of every row to
    its nearest selected row: ``1 - cos`` for cosine, Euclidean for l2) and
    ``diversity`` (mean pairwise distance between selected rows). Large inputs are
    measured on a sample of ``max_rows`` rows / ``max_pairs_rows`` selected rows,
    the ones with the smallest ``keys`` (id-keyed hashes) when given. ``distances=False``
    returns the counts only (no nearest-neighbour search).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 0], [0.9, 0.1], [0, 1]])
    >>> m = coverage_metrics(x, np.array([0, 2]), labels=np.array([0, 0, 1]))
    >>> m["clusters_covered"], round(m["mean_distance_to_selected"], 3)
    (1.0, 0.002)
    """
    from datadiet.index._kmeans import take_rows
    from datadiet.index._knn import knn

    selected = np.asarray(selected, dtype=np.int64)
    n = vectors.shape[0]
    out: dict[str, Any] = {"selected": int(len(selected))}
    if labels is not None:
        k = int(np.unique(labels).size)  # non-empty clusters
        covered = np.unique(labels[selected]).size if len(selected) else 0
        out["clusters"] = k
        out["clusters_covered"] = round(covered / max(k, 1), 6)
    if len(selected) == 0 or n == 0 or not distances:
        return out

    def sample(rows: np.ndarray, m: int) -> np.ndarray:
        if len(rows) <= m:
            return rows
        if keys is not None:
            return rows[np.argpartition(keys[rows], m - 1)[:m]]
        return rows[np.linspace(0, len(rows) - 1, m).astype(np.int64)]

    rows = sample(np.arange(n), max_rows)
    base = take_rows(vectors, selected)
    d, _ = knn(take_rows(vectors, rows), base, 1, metric=metric)
    out["mean_distance_to_selected"] = round(float(d[:, 0].mean()), 6)
    out["max_distance_to_selected"] = round(float(d[:, 0].max()), 6)
    s = np.asarray(take_rows(vectors, sample(selected, max_pairs_rows)), dtype=np.float64)
    if len(s) > 1:
        if metric == "cosine":
            unit_rows(s)
            pair = 1.0 - s @ s.T
        else:
            sq = (s * s).sum(1)
            pair = np.sqrt(np.maximum(sq[:, None] + sq[None] - 2 * s @ s.T, 0))
        m = len(s)
        out["diversity"] = round(float((pair.sum() - np.trace(pair)) / (m * (m - 1))), 6)
    return out
