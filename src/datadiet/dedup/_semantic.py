"""Semantic duplicates (SemDeDup): link rows whose embeddings have cosine above a threshold.

Embeddings are L2-normalised. Rows with identical vectors are grouped first (one
hash pass): every row but the first of a group is a duplicate of it, and only the
first is searched. The rest are clustered with spherical k-means
(:func:`datadiet.index.kmeans`) and put in an inverted-file index over the
centroids; each row is a range query over its ``n_probe`` nearest clusters, which
finds every pair with cosine above ``search_threshold`` (default: the threshold)
that the probed clusters hold. The pairs and their similarities are kept
(``pairs_``, ``similarities_``, plus ``identical_``), so
:meth:`SemanticDedup.rethreshold` gives the selection at any threshold at or
above ``search_threshold`` without searching again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from datadiet._core import Param, ParamError, register
from datadiet._core._errors import DataError
from datadiet.dedup._base import KEEP_PARAMS, BaseDedup, Combined

__all__ = ["SemanticDedup", "semantic_pairs", "identical_rows", "greedy_links"]


def semantic_pairs(vectors: np.ndarray, centroids: np.ndarray, radius: float, n_probe: int = 2,
                   batch_size: int = 16384) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs ``(a < b)`` with cosine >= ``radius`` (rows unit-norm), each row searched in its
    ``n_probe`` nearest clusters.

    The rows are put in an inverted-file index over ``centroids`` (faiss ``IndexIVFFlat``,
    inner product) and every row is a range query that visits the lists of its
    ``n_probe`` nearest centroids, so a pair split by a cluster boundary is found from
    either side. Queries run in batches; a pair found from both of its rows is kept once.
    Returns ``a``, ``b`` (int64) and the similarities (float32).
    """
    import faiss

    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n, d = x.shape
    c = np.ascontiguousarray(centroids, dtype=np.float32).copy()
    c /= np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)
    quantizer = faiss.IndexFlatIP(d)
    quantizer.add(c)
    index = faiss.IndexIVFFlat(quantizer, d, c.shape[0], faiss.METRIC_INNER_PRODUCT)
    index.add(x)
    index.nprobe = int(min(n_probe, c.shape[0]))
    low = float(np.nextafter(np.float32(radius), np.float32(-1)))
    keys, sims = [], []
    for start in range(0, n, batch_size):
        lims, sim, idx = index.range_search(x[start:start + batch_size], low)
        q = start + np.repeat(np.arange(len(lims) - 1, dtype=np.int64), np.diff(lims.astype(np.int64)))
        keep = (idx != q) & (sim >= radius)
        q, idx = q[keep], idx[keep]
        keys.append(np.minimum(q, idx) * n + np.maximum(q, idx))
        sims.append(sim[keep].astype(np.float32))
    del index, quantizer
    key = np.concatenate(keys) if keys else np.zeros(0, np.int64)
    sim_all = np.concatenate(sims) if sims else np.zeros(0, np.float32)
    del keys, sims
    order = np.argsort(key, kind="stable")
    key, sim_all = key[order], sim_all[order]
    del order
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]  # a pair found from both of its rows
    key, sim_all = key[first], sim_all[first]
    return key // n, key % n, sim_all


def identical_rows(x: np.ndarray, rank: np.ndarray, eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose vector equals that of an eligible row of lower ``rank``: ``(row, that row)`` positions.

    Only ``eligible`` rows are grouped (others are their own group); within a group of
    identical vectors the lowest-rank row is the head.
    """
    from datadiet.index._kmeans import row_hashes

    cand = np.flatnonzero(eligible)
    if cand.size < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    h = row_hashes(x[cand])
    order = np.lexsort((rank[cand], h))
    hs, pos = h[order], cand[order]
    new = np.ones(pos.size, dtype=bool)
    new[1:] = hs[1:] != hs[:-1]
    head = pos[np.maximum.accumulate(np.where(new, np.arange(pos.size), 0))]
    row, to = pos[~new], head[~new]
    same = (x[row] == x[to]).all(axis=1)  # a 64-bit hash collision is not a duplicate
    return row[same].astype(np.int64), to[same].astype(np.int64)


class SemanticStage:
    name = "semantic"
    iterate = False

    def __init__(self, owner: SemanticDedup, seed: int) -> None:
        self.o = owner
        self.seed = seed
        self.metrics: dict[str, Any] = {}
        self.pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.same: tuple[np.ndarray, np.ndarray] | None = None
        self.fixed: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.fixed_same: tuple[np.ndarray, np.ndarray] | None = None

    def links(self, comb: Combined, active: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = float(self.o.threshold)
        if self.fixed is not None:  # re-thresholding stored pairs
            a, b, s = self.fixed
            ok = (s >= t) & active[a] & active[b]
            same = self.fixed_same if self.fixed_same is not None else (np.zeros(0, np.int64),) * 2
            keep = active[same[0]] & active[same[1]]
            return self._linkage(a[ok], b[ok], rank, comb.n_train, (same[0][keep], same[1][keep]))
        from datadiet.index import kmeans
        from datadiet.index._kmeans import as_float32

        if comb.sig.vectors is None:
            raise DataError("semantic dedup needs embeddings: name a --vectors column or give --model")
        rows = np.flatnonzero(active)
        x = as_float32(comb.sig.vectors[rows], normalize=True)
        # identical vectors: every row but the first (in keep order) of a group is a duplicate of it,
        # whatever else happens (greedy keep drops them with their head or for it); only the heads
        # are searched, so groups of identical rows never become a quadratic number of pairs
        dup, head = identical_rows(x, rank[rows], rows < comb.n_train)
        is_head = np.ones(rows.size, dtype=bool)
        is_head[dup] = False
        heads = np.flatnonzero(is_head)
        if heads.size < rows.size:
            x = x[heads]
        n = heads.size
        k = self.o.n_clusters if self.o.n_clusters is not None else max(1, int(round(np.sqrt(n / 4))))
        k = int(min(k, n))
        radius = t if self.o.search_threshold is None else float(self.o.search_threshold)
        if k > 1:
            res = kmeans(x, k, spherical=True, seed=self.seed, ids=comb.sig.ids.take(rows[heads]))
            centroids = res.centroids
        else:
            centroids = x.mean(axis=0, keepdims=True) if n else np.ones((1, x.shape[1]), np.float32)
        a, b, s = semantic_pairs(x, centroids, radius, n_probe=self.o.n_probe)
        del x
        a, b = rows[heads[a]], rows[heads[b]]
        self.pairs = (a, b, s)
        self.same = (rows[dup], rows[head])
        self.metrics = {"semantic_clusters": k, "semantic_pairs_searched": int(a.size),
                        "semantic_identical": int(dup.size), "semantic_search_threshold": radius}
        ok = s >= t
        return self._linkage(a[ok], b[ok], rank, comb.n_train, self.same)

    def _linkage(self, a: np.ndarray, b: np.ndarray, rank: np.ndarray, n_train: int,
                 same: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        if self.o.linkage != "components":
            a, b = greedy_links(a, b, rank, n_train)
        # each identical row hangs off its head: dropped with it, or for it when the head is kept
        return np.concatenate([a, same[0]]), np.concatenate([b, same[1]])


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
    """Drop semantic duplicates: rows of one k-means cluster whose embeddings have cosine >= threshold.

    Examples
    --------
    >>> import numpy as np
    >>> v = np.array([[1.0, 0.0], [0.999, 0.04], [0.0, 1.0]])
    >>> d = SemanticDedup(threshold=0.99, n_clusters=1).fit(vectors=v)
    >>> d.selection_.counts(), d.duplicate_of_.tolist()
    ({'kept': 2, 'duplicate': 1}, [-1, 0, -1])
    """

    method = "semantic"
    requires = ("vectors",)

    params = (
        Param("threshold", "float", 0.95, "cosine similarity above which two rows are duplicates (SemDeDup's 1 - eps)",
              low=-1, high=1),
        Param("n_clusters", "int", None, "k-means clusters (default sqrt(n / 4)); pairs are searched inside them",
              low=1, none=True),
        Param("search_threshold", "float", None, "lowest cosine kept from the neighbour search (default: threshold); "
              "lower it to call rethreshold() down to it", low=-1, high=1, none=True),
        *KEEP_PARAMS,
        Param("linkage", "choice", "greedy", "greedy: drop a row linked to an already kept row (SemDeDup); "
              "components: keep one row per connected component", choices=("greedy", "components")),
        Param("n_probe", "int", 3, "nearest k-means clusters each row is searched in (more: fewer pairs missed "
              "at cluster boundaries, more search work)", low=1),
    )

    def _check_params(self) -> None:
        if self.search_threshold is not None and self.search_threshold > self.threshold:
            raise ParamError("search_threshold", f"<= threshold ({self.threshold})", self.search_threshold,
                             type(self).__name__)

    def _stages(self, seed: int) -> list[Any]:
        stage = SemanticStage(self, seed)
        if getattr(self, "_fixed", None) is not None:
            stage.fixed = self._fixed
            stage.fixed_same = getattr(self, "_fixed_same", None)
        self._stage = stage
        return [stage]

    def fit(self, signals: Any = None, /, *, against: Any = None, **arrays: Any) -> SemanticDedup:
        self._fixed: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        super().fit(signals, against=against, **arrays)
        a, b, s = self._stage.pairs  # type: ignore[misc]
        self.pairs_ = np.stack([a, b], axis=1)
        self.similarities_ = s
        self.identical_ = np.stack(self._stage.same, axis=1)  # type: ignore[arg-type]
        self.search_threshold_ = self._stage.metrics["semantic_search_threshold"]
        self._fit_input = (signals, against, arrays)
        return self

    def rethreshold(self, threshold: float) -> Any:
        """The selection at another cosine ``threshold`` (>= ``search_threshold_``), reusing the stored pairs.

        Returns a :class:`~datadiet.Selection`; the fitted state is unchanged.
        """
        if not hasattr(self, "pairs_"):
            raise DataError("call fit before rethreshold")
        type(self).declared()["threshold"].check(threshold, type(self).__name__)
        if threshold < self.search_threshold_:
            raise DataError(f"threshold {threshold} is below the search threshold {self.search_threshold_} of "
                             f"the fit; refit with search_threshold <= {threshold}")
        clone = type(self)(**{**self.get_params(), "threshold": threshold,
                              "search_threshold": self.search_threshold_})
        clone._fixed = (self.pairs_[:, 0], self.pairs_[:, 1], self.similarities_)
        clone._fixed_same = (self.identical_[:, 0], self.identical_[:, 1])
        signals, against, arrays = self._fit_input
        clone._stage_fixed_fit(signals, against, arrays)
        return clone.selection_

    def _stage_fixed_fit(self, signals: Any, against: Any, arrays: dict[str, Any]) -> None:
        BaseDedup.fit(self, signals, against=against, **arrays)
