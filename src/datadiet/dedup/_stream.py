"""Streaming semantic dedup: rows visited in keep order, each searched only against the rows kept so far.

The rows are cut into batches in keep order. Each batch is range-searched (cosine
>= threshold) against a faiss IVF index that holds the rows kept so far; rows with
a hit are dropped and linked to the best-ranked kept row among their hits. The
rows left are compared with each other inside the batch (one small Gram matrix)
and visited in keep order; the batch's kept rows are then added to the index. So
a row is dropped iff it is at or above the threshold to an earlier *kept* row (the
greedy rule of SemDeDup and semhash), and no list of pairs is ever held: memory is
the vectors, the index of kept rows and one batch.

Identical vectors are grouped by one hash pass first; only the best-ranked row of
each group is searched, the others follow it (same cosine to every row).

The IVF search is exact when ``n_probe`` covers every cell; otherwise a pair whose
rows fall in cells more than ``n_probe`` apart is missed (measured in
BENCHMARKS.md, section "(b) semantic duplicates").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["StreamResult", "ivf_index", "stream_greedy", "stream_components", "identical_groups"]

#: Rows per batch: the within-batch Gram matrix is BATCH x BATCH float32 (4 MB) and its pairs at most
#: BATCH^2 / 2 (8 MB of int64 pairs when a whole batch is one duplicate cluster).
BATCH = 1024


@dataclass
class StreamResult:
    """Dropped rows (positions into the searched array), the kept row each duplicates and their cosine."""

    dropped: np.ndarray
    link: np.ndarray
    similarity: np.ndarray
    metrics: dict[str, Any] = field(default_factory=dict)


def ivf_index(centroids: np.ndarray, n_probe: int) -> Any:
    """An empty inner-product ``IndexIVFFlat`` over unit-norm ``centroids`` searching ``n_probe`` cells."""
    import faiss

    c = np.ascontiguousarray(centroids, dtype=np.float32).copy()
    norms = np.linalg.norm(c, axis=1, keepdims=True)
    np.divide(c, norms, out=c, where=norms > 0)
    quantizer = faiss.IndexFlatIP(c.shape[1])
    quantizer.add(c)
    index = faiss.IndexIVFFlat(quantizer, c.shape[1], c.shape[0], faiss.METRIC_INNER_PRODUCT)
    index.is_trained = True
    index.nprobe = int(min(max(n_probe, 1), c.shape[0]))  # faiss keeps a reference to the quantizer
    return index


def identical_groups(x: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(reps, rep_of)``: the rows to search (in ``order``) and, for every row, the row it is identical to.

    ``rep_of[i] == i`` for a searched row; otherwise ``rep_of[i]`` is the first row of
    ``order`` with exactly the same vector. Zero rows (no direction) are never grouped.
    """
    from datadiet.index._kmeans import row_hashes

    n = x.shape[0]
    h = row_hashes(x)
    ho = h[order]
    _, first, inv = np.unique(ho, return_index=True, return_inverse=True)
    rep_of = np.empty(n, dtype=np.int64)
    rep_of[order] = order[first[inv.ravel()]]
    cand = np.flatnonzero(rep_of != np.arange(n))
    if cand.size:  # a hash is not a proof: compare the bytes, and never group zero rows
        same = np.ones(cand.size, dtype=bool)
        for s in range(0, cand.size, 8192):
            c = cand[s:s + 8192]
            same[s:s + 8192] = (x[c] == x[rep_of[c]]).all(axis=1) & (x[c] != 0).any(axis=1)
        rep_of[cand[~same]] = cand[~same]
    is_rep = rep_of[order] == order
    return order[is_rep], rep_of


def _first_hit(lims: np.ndarray, dist: np.ndarray, ids: np.ndarray, t: float,
               n_q: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per query with a hit at cosine >= ``t``: ``(query, smallest index id, its cosine)``."""
    counts: np.ndarray = np.diff(np.asarray(lims, dtype=np.int64))
    q = np.repeat(np.arange(n_q), counts)
    ok = dist >= t
    q, ids, dist = q[ok], ids[ok], dist[ok]
    if q.size == 0:
        return q, ids, dist
    o = np.lexsort((ids, q))
    q, ids, dist = q[o], ids[o], dist[o]
    head = np.r_[True, q[1:] != q[:-1]]
    return q[head], ids[head], dist[head]


def _add(index: Any, x: np.ndarray, cell: np.ndarray) -> None:
    """Add rows to an IVF index in the cells already computed for them (ids follow ``index.ntotal``)."""
    import faiss

    x = np.ascontiguousarray(x, dtype=np.float32)
    cell = np.ascontiguousarray(cell, dtype=np.int64)
    index.add_core(x.shape[0], faiss.swig_ptr(x), None, faiss.swig_ptr(cell))  # both arrays alive here


def _radius(t: float) -> float:
    return float(np.nextafter(np.float32(t), np.float32(-np.inf)))


def stream_greedy(x: np.ndarray, order: np.ndarray, protected: np.ndarray, t: float, index: Any,
                  batch: int | None = None) -> StreamResult:
    """Greedy keep over unit-norm rows ``x`` visited in ``order``; ``protected`` rows are never dropped.

    ``index`` is an empty faiss index (:func:`ivf_index`); the kept rows are added to it.

    Examples
    --------
    >>> x = np.array([[1, 0], [0.9999, 0.01], [0.9998, 0.02], [0, 1]], dtype=np.float32)
    >>> x /= np.linalg.norm(x, axis=1, keepdims=True)
    >>> res = stream_greedy(x, np.arange(4), np.zeros(4, bool), 0.999, ivf_index(x[[0, 3]], 2))
    >>> res.dropped.tolist(), res.link.tolist()   # 1 and 2 are within 0.999 of 0; 3 is not
    ([1, 2], [0, 0])
    """
    n = x.shape[0]
    batch = batch or BATCH
    reps, rep_of = identical_groups(x, order)
    link = np.full(n, -1, dtype=np.int64)
    sim = np.zeros(n, dtype=np.float32)
    kept_rows = np.empty(reps.size, dtype=np.int64)  # index id -> row
    n_kept = 0
    radius = _radius(t)
    for s in range(0, reps.size, batch):
        rows = reps[s:s + batch]
        xb = np.ascontiguousarray(x[rows])
        alive = np.ones(rows.size, dtype=bool)
        coarse_d, cells = index.quantizer.search(xb, index.nprobe)  # once: for the search and the add
        if n_kept:
            lims, dist, ids = index.range_search_preassigned(xb, radius, cells, coarse_d)
            q, hit, d = _first_hit(lims, dist, ids, t, rows.size)
            q_ok = ~protected[rows[q]]
            q, hit, d = q[q_ok], hit[q_ok], d[q_ok]
            link[rows[q]] = kept_rows[hit]
            sim[rows[q]] = d
            alive[q] = False
        live = np.flatnonzero(alive)
        keep = _within_batch(xb[live], rows[live], protected[rows[live]], t, link, sim)
        new = rows[live[keep]]
        if new.size:
            _add(index, xb[live[keep]], cells[live[keep], 0])
            kept_rows[n_kept:n_kept + new.size] = new
            n_kept += new.size
    # identical rows follow the row they copy: dropped with its link, or linked to it when it was kept
    copies = np.flatnonzero((rep_of != np.arange(n)) & ~protected)
    r = rep_of[copies]
    followed = link[r] >= 0
    link[copies] = np.where(followed, link[r], r)
    sim[copies] = np.where(followed, sim[r], np.einsum("ij,ij->i", x[copies], x[r]))
    dropped = np.flatnonzero(link >= 0)
    metrics = {"semantic_identical": int(copies.size), "semantic_searched": int(reps.size),
               "semantic_kept_indexed": int(n_kept)}
    return StreamResult(dropped, link[dropped], sim[dropped], metrics)


def _within_batch(xs: np.ndarray, rows: np.ndarray, prot: np.ndarray, t: float, link: np.ndarray,
                  sim: np.ndarray) -> np.ndarray:
    """Greedy keep among one batch's rows (in keep order); fills ``link``/``sim``; returns the kept mask.

    The sequential rule (a row goes iff an earlier row of the batch that was kept is
    at or above ``t`` to it) is resolved in rounds over the pairs: a row with a kept
    earlier neighbour is dropped, a row whose earlier neighbours are all dropped is
    kept; every round decides at least the first undecided row.
    """
    m = rows.size
    keep = np.ones(m, dtype=bool)
    if m < 2:
        return keep
    g = xs @ xs.T
    later, earlier = np.nonzero(np.tril(g >= t, -1))  # sorted by the later row, then the earlier one
    if later.size == 0:
        return keep
    state = np.zeros(m, dtype=np.int8)  # 0 undecided, 1 kept, 2 dropped
    state[np.setdiff1d(np.arange(m), later)] = 1
    state[prot] = 1
    while (state == 0).any():
        se = state[earlier]
        undecided_later = state[later] == 0
        drop = np.unique(later[(se == 1) & undecided_later])
        open_pairs = np.bincount(later[(se != 2) & undecided_later], minlength=m)
        state[drop] = 2
        state[(state == 0) & (open_pairs == 0)] = 1
    keep = state == 1
    # each dropped row's link: its best-ranked (first) kept earlier neighbour
    pick = ~keep[later] & keep[earlier]
    later, earlier = later[pick], earlier[pick]  # still sorted by (later, earlier)
    if later.size == 0:  # every row with an earlier neighbour was protected
        return keep
    head = np.r_[True, later[1:] != later[:-1]]
    j, i = later[head], earlier[head]
    link[rows[j]] = rows[i]
    sim[rows[j]] = g[j, i]
    return keep


def stream_components(x: np.ndarray, order: np.ndarray, t: float, index: Any,
                      batch: int | None = None) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Connected components of every pair at cosine >= ``t``, found batch by batch without a pair list.

    Returns star links ``(member, first row of its component in order)`` and metrics.
    """
    from datadiet.dedup._lsh import components

    n = x.shape[0]
    batch = batch or BATCH
    reps, rep_of = identical_groups(x, order)
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    label = pos[rep_of]  # component label: the smallest keep-order position in it
    indexed = np.empty(reps.size, dtype=np.int64)
    radius = _radius(t)
    for s in range(0, reps.size, batch):
        rows = reps[s:s + batch]
        xb = np.ascontiguousarray(x[rows])
        a_parts, b_parts = [], []
        if s:
            lims, dist, ids = index.range_search(xb, radius)
            counts: np.ndarray = np.diff(np.asarray(lims, dtype=np.int64))
            ok = dist >= t
            a_parts.append(rows[np.repeat(np.arange(rows.size), counts)[ok]])
            b_parts.append(indexed[ids[ok]])
        later, earlier = np.nonzero(np.tril(xb @ xb.T >= t, -1))
        a_parts.append(rows[later])
        b_parts.append(rows[earlier])
        a, b = np.concatenate(a_parts), np.concatenate(b_parts)
        if a.size:
            la, lb = label[a], label[b]
            nodes, inv = np.unique(np.concatenate([la, lb]), return_inverse=True)
            comp = components(nodes.size, inv[:a.size], inv[a.size:])
            root = np.full(comp.max() + 1, np.iinfo(np.int64).max, dtype=np.int64)
            np.minimum.at(root, comp, nodes)
            lut_from, lut_to = nodes, root[comp]
            changed = lut_from != lut_to
            if changed.any():
                lut = np.arange(n, dtype=np.int64)
                lut[lut_from[changed]] = lut_to[changed]
                label = lut[label]
        index.add(xb)
        indexed[s:s + rows.size] = rows
    head = order[label]
    member = np.flatnonzero(head != np.arange(n))
    return member, head[member], {"semantic_identical": int(n - reps.size), "semantic_searched": int(reps.size)}
