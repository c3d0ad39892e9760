"""Facility location by lazy greedy on a sparse kNN similarity graph, per partition and merged."""

from __future__ import annotations

import heapq
from typing import Any

import numpy as np

from datadiet._core import Param, register
from datadiet.index._kmeans import take_rows
from datadiet.index._knn import knn
from datadiet.select._base import BUDGETED, Picked, Target
from datadiet.select._embed_base import CLUSTERING, EmbeddingSelector
from datadiet.signals._table import Signals

__all__ = ["FacilityLocationSelector", "knn_similarity_graph", "lazy_greedy_facility"]


def knn_similarity_graph(x: np.ndarray, n_neighbors: int, metric: str = "cosine") -> Any:
    """Sparse (n, n) similarity: row ``i`` holds ``s(i, j)`` for ``j`` in ``i``'s nearest neighbours and itself.

    Cosine similarity is ``max(0, cos)``; for ``l2`` it is ``exp(-d^2 / h^2)`` with ``h``
    the mean distance to the farthest kept neighbour.
    """
    from scipy import sparse

    n = x.shape[0]
    k = min(n_neighbors + 1, n)
    d, idx = knn(x, x, k, metric=metric)
    d = d.astype(np.float64)
    if metric == "cosine":
        s = np.maximum(1.0 - d, 0.0)
    else:
        h2 = max(float(np.mean(d[:, -1] ** 2)), 1e-12)
        s = np.exp(-(d**2) / h2)
    rows = np.repeat(np.arange(n), k)
    g = sparse.csr_matrix((s.ravel(), (rows, idx.ravel())), shape=(n, n))
    g.sum_duplicates()
    return g


def lazy_greedy_facility(graph: Any, k: int, tiebreak: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Maximise ``F(S) = sum_i max_{j in S} s(i, j)`` over ``|S| = k`` by lazy greedy.

    ``graph`` is a sparse (n, n) similarity (row ``i``: how well ``j`` represents ``i``).
    Ties go to the smaller ``tiebreak`` (default: row number). Returns the chosen
    columns in the order picked and ``F(S)``. Gains only shrink as ``S`` grows
    (submodularity), so a stale gain is an upper bound: an item is taken when its
    recomputed gain still beats every other bound.
    """
    csc = graph.tocsc()
    indptr, rows, vals = csc.indptr, csc.indices, csc.data
    n = csc.shape[1]
    tb = np.arange(n, dtype=np.float64) if tiebreak is None else np.asarray(tiebreak, dtype=np.float64)
    cur = np.zeros(csc.shape[0], dtype=np.float64)
    gains0 = np.add.reduceat(vals, indptr[:-1]) if len(vals) else np.zeros(n)
    gains0 = np.where(np.diff(indptr) > 0, gains0, 0.0)
    heap = list(zip((-gains0).tolist(), tb.tolist(), range(n), strict=True))
    heapq.heapify(heap)
    chosen: list[int] = []
    total = 0.0
    while heap and len(chosen) < k:
        neg, t, j = heapq.heappop(heap)
        lo, hi = indptr[j], indptr[j + 1]
        r = rows[lo:hi]
        gain = float(np.maximum(vals[lo:hi] - cur[r], 0.0).sum())
        if not heap or (-gain, t) <= (heap[0][0], heap[0][1]):
            chosen.append(j)
            total += gain
            np.maximum.at(cur, r, vals[lo:hi])
        else:
            heapq.heappush(heap, (-gain, t, j))
    return np.asarray(chosen, dtype=np.int64), float(cur.sum())


@register("select")
class FacilityLocationSelector(EmbeddingSelector):
    """Facility location (representativeness) by lazy greedy, per partition and merged.

    The data are split into ``ceil(n / partition_size)`` k-means partitions; each
    gets a share of the budget proportional to its size. Inside a partition a
    sparse graph links every row to its ``n_neighbors`` nearest rows (faiss) and
    lazy greedy maximises ``sum_i max_{j in S} s(i, j)``. Cost: O(n * p * d) for
    the graphs (``p`` the partition size) plus the greedy on ``n * n_neighbors``
    edges; nothing is quadratic in ``n``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(400, 8))
    >>> sel = FacilityLocationSelector(budget=25, n_neighbors=10).fit(vectors=x)
    >>> len(sel.selected_indices_), sel.objective_ > 0
    (25, True)
    """

    method = "facility-location"

    params = (
        *BUDGETED,
        Param("n_neighbors", "int", 50, "neighbours per example in the similarity graph", low=1,
              aliases=("--neighbors",)),
        Param("partition_size", "int", 10000, "rows per k-means partition (the greedy runs per partition)", low=2),
        *CLUSTERING,
    )

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        assert sig.vectors is not None
        res, keys, parts = self._partitions(sig, target, seed)
        chosen, objective = [], 0.0
        for _, rows, quota in parts:
            if quota >= len(rows):
                chosen.append(rows)
                objective += float(len(rows))
                continue
            g = knn_similarity_graph(take_rows(sig.vectors, rows), self.n_neighbors, self.metric)
            picked, f = lazy_greedy_facility(g, quota, tiebreak=keys[rows])
            chosen.append(rows[picked])
            objective += f
        self.objective_ = objective
        return self._finish(sig, np.concatenate(chosen), seed, res,
                            extra_metrics={"partitions": res.k, "facility_objective": round(objective, 4)})
