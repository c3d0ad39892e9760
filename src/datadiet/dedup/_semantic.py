"""Semantic duplicates (SemDeDup): within each k-means cluster, link pairs above a cosine threshold.

Embeddings are L2-normalised and clustered with spherical k-means
(:func:`datadiet.index.kmeans`); inside each cluster a faiss range search finds
every pair with cosine above ``search_threshold`` (default: the threshold). The
pairs and their similarities are kept (``pairs_``, ``similarities_``), so
:meth:`SemanticDedup.rethreshold` gives the selection at any threshold at or
above ``search_threshold`` without searching again.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from datadiet._core import Param, ParamError, register
from datadiet._core._errors import DataError
from datadiet.dedup._base import KEEP_PARAMS, BaseDedup, Combined

__all__ = ["SemanticDedup", "SemanticThresholdWarning", "semantic_pairs", "random_pair_cosines",
           "MEASURED_THRESHOLDS"]

#: Pairs of random rows whose cosine is measured before deduplicating, and the share of them at or
#: above the threshold from which a warning is given (unrelated texts would be called duplicates).
RANDOM_PAIRS = 20000
WARN_SHARE = 1e-3

#: Per-encoder default thresholds, measured on real corpora (docs/dedup.md, "Choosing the threshold";
#: bench/semantic_thresholds.py): the 99.99th percentile of random-pair cosines of BBC News and of
#: Rotten Tomatoes reviews, rounded up to 0.01, never below 0.95.
MEASURED_THRESHOLDS: dict[str, float] = {"hashed": 0.95, "static": 0.96, "minilm": 0.95}


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


def semantic_pairs(vectors: np.ndarray, labels: np.ndarray, radius: float,
                   second: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs ``(a < b)`` with cosine >= ``radius`` (rows unit-norm) searched inside clusters.

    Each row is a query in its own cluster (``labels``). With ``second`` (each
    row's second-nearest cluster), rows are also searchable from that cluster, so
    pairs split by a cluster boundary are found too.
    """
    import faiss

    n = labels.size
    probe = labels if second is None else np.concatenate([labels, second])
    owner = np.arange(n) if second is None else np.concatenate([np.arange(n), np.arange(n)])
    order = np.argsort(probe, kind="stable")
    bounds = np.flatnonzero(np.diff(probe[order])) + 1
    out_a, out_b, out_s = [], [], []
    for slots in np.split(order, bounds):
        members = owner[slots]
        queries = members[slots < n]  # rows whose own cluster this is
        if members.size < 2 or queries.size == 0:
            continue
        x = np.ascontiguousarray(vectors[members], dtype=np.float32)
        index = faiss.IndexFlatIP(x.shape[1])
        index.add(x)
        lims, sims, idx = index.range_search(np.ascontiguousarray(vectors[queries], dtype=np.float32),
                                             float(np.nextafter(np.float32(radius), np.float32(-1))))
        counts: np.ndarray = np.diff(np.asarray(lims, dtype=np.int64))
        q = np.repeat(queries, counts)
        other = members[idx]
        keep = (other != q) & (sims >= radius)
        out_a.append(np.minimum(q[keep], other[keep]))
        out_b.append(np.maximum(q[keep], other[keep]))
        out_s.append(sims[keep])
    if not out_a:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    a = np.concatenate(out_a).astype(np.int64)
    b = np.concatenate(out_b).astype(np.int64)
    sim = np.concatenate(out_s).astype(np.float32)
    key, first = np.unique(a * n + b, return_index=True)  # a pair can be found from both of its clusters
    return a[first], b[first], sim[first]


class SemanticStage:
    name = "semantic"
    iterate = False

    def __init__(self, owner: SemanticDedup, seed: int) -> None:
        self.o = owner
        self.seed = seed
        self.metrics: dict[str, Any] = {}
        self.pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.fixed: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def links(self, comb: Combined, active: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = float(self.o.threshold)
        if self.fixed is not None:  # re-thresholding stored pairs
            a, b, s = self.fixed
            ok = (s >= t) & active[a] & active[b]
            return self._linkage(a[ok], b[ok], rank, comb.n_train)
        from datadiet.index import kmeans
        from datadiet.index._kmeans import as_float32, row_hashes

        if comb.sig.vectors is None:
            raise DataError("semantic dedup needs embeddings: name a --vectors column or give --model")
        rows = np.flatnonzero(active)
        x = as_float32(comb.sig.vectors[rows], normalize=True)
        n = rows.size
        k = self.o.n_clusters if self.o.n_clusters is not None else max(1, int(round(np.sqrt(n / 4))))
        distinct = np.unique(row_hashes(x)).size
        k = int(min(k, distinct, n))
        second = None
        if k > 1:
            res = kmeans(x, k, spherical=True, seed=self.seed, ids=comb.sig.ids.take(rows))
            labels = res.labels
            if self.o.n_probe == 2:
                second = _second_nearest(x, res.centroids, labels)
        else:
            labels = np.zeros(n, dtype=np.int64)
        radius = t if self.o.search_threshold is None else float(self.o.search_threshold)
        a, b, s = semantic_pairs(x, labels, radius, second)
        a, b = rows[a], rows[b]
        self.pairs = (a, b, s)
        check = _threshold_check(random_pair_cosines(x, comb.sig.ids.take(rows), self.seed), t)
        self.metrics = {"semantic_clusters": k, "semantic_pairs_searched": int(a.size),
                        "semantic_search_threshold": radius,
                        **{f"semantic_{k2}": v for k2, v in check.items()},
                        "semantic_near_threshold": _near_threshold(comb, a, b, s, t)}
        ok = s >= t
        return self._linkage(a[ok], b[ok], rank, comb.n_train)

    def _linkage(self, a: np.ndarray, b: np.ndarray, rank: np.ndarray,
                 n_train: int) -> tuple[np.ndarray, np.ndarray]:
        if self.o.linkage == "components":
            return a, b
        return greedy_links(a, b, rank, n_train)


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


def _second_nearest(x: np.ndarray, centroids: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each row's nearest centroid other than its own (by inner product on unit vectors)."""
    import faiss

    c = np.ascontiguousarray(centroids, dtype=np.float32)
    c /= np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)
    index = faiss.IndexFlatIP(c.shape[1])
    index.add(c)
    _, top = index.search(np.ascontiguousarray(x, dtype=np.float32), 2)
    return np.where(top[:, 0] == labels, top[:, 1], top[:, 0]).astype(np.int64)


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
        Param("n_probe", "choice", 2, "clusters a row is searched from: its own, or also its second-nearest",
              choices=(1, 2)),
    )

    def _check_params(self) -> None:
        if self.search_threshold is not None and self.search_threshold > self.threshold:
            raise ParamError("search_threshold", f"<= threshold ({self.threshold})", self.search_threshold,
                             type(self).__name__)

    def _stages(self, seed: int) -> list[Any]:
        stage = SemanticStage(self, seed)
        if getattr(self, "_fixed", None) is not None:
            stage.fixed = self._fixed
        self._stage = stage
        return [stage]

    def fit(self, signals: Any = None, /, *, against: Any = None, **arrays: Any) -> SemanticDedup:
        self._fixed: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        super().fit(signals, against=against, **arrays)
        a, b, s = self._stage.pairs  # type: ignore[misc]
        self.pairs_ = np.stack([a, b], axis=1)
        self.similarities_ = s
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
        signals, against, arrays = self._fit_input
        clone._stage_fixed_fit(signals, against, arrays)
        return clone.selection_

    def _stage_fixed_fit(self, signals: Any, against: Any, arrays: dict[str, Any]) -> None:
        BaseDedup.fit(self, signals, against=against, **arrays)
