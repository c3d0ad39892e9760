"""Facility location by greedy on a sparse kNN similarity graph, per partition and merged."""

from __future__ import annotations

from typing import Any

import numpy as np

from datadiet._core import Param, register
from datadiet.index._kmeans import as_float32, faiss_threads, take_rows
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


def _ranges(starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(starts[i], starts[i] + lens[i])`` for every ``i``."""
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offs = np.cumsum(lens) - lens
    return np.repeat(starts - offs, lens) + np.arange(total, dtype=np.int64)


def lazy_greedy_facility(graph: Any, k: int, tiebreak: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Maximise ``F(S) = sum_i max_{j in S} s(i, j)`` over ``|S| = k`` by greedy.

    ``graph`` is a sparse (n, n) similarity (row ``i``: how well ``j`` represents ``i``).
    Ties go to the smaller ``tiebreak`` (default: row number). Returns the chosen
    columns in the order picked and ``F(S)``.

    Every candidate's marginal gain is kept up to date instead of re-evaluated
    lazily: when a pick raises the coverage ``cur[i]`` of rows ``i``, only the
    candidates in those rows lose gain, by ``max(0, s - old) - max(0, s - new)``
    each, so a pick costs the edges of the rows it covers better (numpy, no Python
    loop over candidates). The best candidates (within 1e-9 of the maximum) are
    re-scored exactly before a pick, so the result is the greedy's, ties included.
    """
    csr = graph.tocsr()
    csr.sum_duplicates()
    csc = csr.tocsc()
    rowptr, rcols, rvals = csr.indptr.astype(np.int64), csr.indices.astype(np.int64), csr.data.astype(np.float64)
    colptr, crows, cvals = csc.indptr.astype(np.int64), csc.indices.astype(np.int64), csc.data.astype(np.float64)
    n = csr.shape[1]
    tb = np.arange(n, dtype=np.float64) if tiebreak is None else np.asarray(tiebreak, dtype=np.float64)
    cur = np.zeros(csr.shape[0], dtype=np.float64)
    gain = np.zeros(n, dtype=np.float64)
    nz = np.flatnonzero(np.diff(colptr) > 0)
    if nz.size:
        gain[nz] = np.add.reduceat(cvals, colptr[nz])
    chosen: list[int] = []
    for _ in range(min(int(k), n)):
        best = gain.max()
        near = np.flatnonzero(gain >= best - 1e-9)
        if near.size > 1:  # re-score the contenders exactly, then the smallest tiebreak among equals
            lens = colptr[near + 1] - colptr[near]
            idx = _ranges(colptr[near], lens)
            contrib = np.maximum(cvals[idx] - cur[crows[idx]], 0.0)
            exact = np.zeros(near.size)
            has = lens > 0
            if has.any():
                exact[has] = np.add.reduceat(contrib, (np.cumsum(lens) - lens)[has])
            j = int(near[np.lexsort((tb[near], -exact))[0]])
        else:
            j = int(near[0])
        chosen.append(j)
        lo, hi = colptr[j], colptr[j + 1]
        r, v = crows[lo:hi], cvals[lo:hi]
        old = cur[r]
        up = v > old
        if up.any():
            rr, o, nw = r[up], old[up], v[up]
            lens = rowptr[rr + 1] - rowptr[rr]
            idx = _ranges(rowptr[rr], lens)
            s = rvals[idx]
            o_rep, n_rep = np.repeat(o, lens), np.repeat(nw, lens)
            delta = np.maximum(s - o_rep, 0.0) - np.maximum(s - n_rep, 0.0)
            np.subtract.at(gain, rcols[idx], delta)
            cur[rr] = nw
        gain[j] = -np.inf
    return np.asarray(chosen, dtype=np.int64), float(cur.sum())


@register("select")
class FacilityLocationSelector(EmbeddingSelector):
    """Facility location (representativeness) by greedy, per partition and merged.

    The data are split into ``ceil(n / partition_size)`` k-means partitions; each
    gets a share of the budget proportional to its size. Inside a partition a
    sparse graph links every row to its ``n_neighbors`` nearest rows (faiss) and
    greedy maximises ``sum_i max_{j in S} s(i, j)``. Cost: O(n * p * d) for
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
        Param("partition_size", "int", 1000, "rows per k-means partition (the greedy runs per partition)", low=2),
        *CLUSTERING,
    )

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        assert sig.vectors is not None
        import faiss

        res, keys, parts = self._partitions(sig, target, seed)
        chosen, objective = [], 0.0
        cosine = self.metric == "cosine"
        # cosine: the rows already chosen in earlier partitions cover part of this one; a row's
        # similarities are lowered by that coverage, so the greedy does not spend the partition's
        # quota on rows a neighbouring partition already represents (the merge step)
        picked_index = faiss.IndexFlatIP(sig.vectors.shape[1]) if cosine else None
        for _, rows, quota in parts:
            if quota >= len(rows):
                chosen.append(rows)
                objective += float(len(rows))
                if picked_index is not None:
                    picked_index.add(as_float32(take_rows(sig.vectors, rows), normalize=True))
                continue
            xv = as_float32(take_rows(sig.vectors, rows), normalize=cosine)
            g = knn_similarity_graph(xv, self.n_neighbors, self.metric).tocsr()
            if picked_index is not None and picked_index.ntotal:
                with faiss_threads(float(len(xv)) * picked_index.ntotal * xv.shape[1]):
                    covered = np.maximum(picked_index.search(xv, 1)[0][:, 0], 0.0).astype(np.float64)
                g.sum_duplicates()
                g.data = np.maximum(g.data - np.repeat(covered, np.diff(g.indptr)), 0.0)
                g.eliminate_zeros()
                f0 = float(covered.sum())  # each row's coverage: what earlier picks gave + what these add
            else:
                f0 = 0.0
            picked, f = lazy_greedy_facility(g, quota, tiebreak=keys[rows])
            chosen.append(rows[picked])
            objective += f + f0
            if picked_index is not None:
                picked_index.add(xv[picked])
        self.objective_ = objective
        return self._finish(sig, np.concatenate(chosen), seed, res,
                            extra_metrics={"partitions": res.k, "facility_objective": round(objective, 4)})
