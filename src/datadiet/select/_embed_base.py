"""Shared parts of the selectors that work in embedding space.

They need ``signals.vectors``; they cluster with faiss k-means (spherical for the
cosine metric), split the budget across clusters and choose inside each cluster,
so nothing is quadratic in the number of examples. Every one of them records
coverage metrics (clusters covered, mean distance to the nearest kept example,
diversity) in the manifest; ``coverage=False`` leaves out the distances and the diversity.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from datadiet._core import Param, derived_seed
from datadiet._core._allocate import allocate
from datadiet._core._hashing import uniform_keys
from datadiet.index._kmeans import KMeansResult, kmeans
from datadiet.metrics._coverage import coverage_metrics
from datadiet.select._base import BaseSelector, Picked
from datadiet.signals._table import Signals

__all__ = ["EmbeddingSelector", "rank_within", "auto_clusters", "cluster_spread", "exact_distances", "CLUSTERING", "METRIC",
           "NITER", "RESTARTS"]

METRIC = Param("metric", "choice", "cosine", "distance between vectors", choices=("cosine", "l2"))
NITER = Param("niter", "int", 20, "k-means iterations", low=1)
RESTARTS = Param("restarts", "int", 1, "k-means initialisations; the run with the lowest inertia is kept", low=1)
#: Every embedding selector's switch for the distance metrics of :func:`coverage_metrics`.
COVERAGE = Param("coverage", "bool", True, "measure the distance of every row (a sample of 20,000) to its nearest "
                 "kept row and the diversity of the kept rows, into the manifest; off skips that search")
#: k-means parameters of the clustering selectors.
CLUSTERING = (
    Param("n_clusters", "int", "auto", "k-means clusters / partitions (auto: from the input size, see the docs)",
          low=1, also=("auto",), aliases=("--clusters",)),
    METRIC,
    NITER,
)


def auto_clusters(n: int, budget: int | None = None) -> int:
    """Default number of clusters: ``round(sqrt(n))``, at most ``n`` and at most the budget when given."""
    k = max(1, int(round(math.sqrt(n))))
    if budget is not None:
        k = min(k, max(1, budget))
    return min(k, n)


def exact_distances(res: KMeansResult) -> np.ndarray:
    """Row-to-centroid distances with float32 rounding noise set to exactly 0.

    A cluster of identical vectors has spread 0, but faiss returns ``1 - cos`` of
    about 1e-7 (and Euclidean distances, square roots of such noise, of about
    1e-3 of the norm). Left in, that noise decides which of several such clusters
    gets the budget, and one copied vector takes all of it.
    """
    d = np.asarray(res.distances, dtype=np.float64)
    if res.spherical:
        tol = 1e-5
    else:
        scale = float(np.sqrt((np.asarray(res.centroids, np.float64) ** 2).sum(1)).max()) if res.k else 0.0
        tol = 1e-3 * max(scale, 1e-12)
    return np.where(d < tol, 0.0, d)


def cluster_spread(res: KMeansResult) -> np.ndarray:
    """Mean distance to the centroid per cluster, scaled to mean 1 over non-empty clusters, plus 1e-6.

    Clusters of identical vectors have spread exactly 0 (see :func:`exact_distances`); when every
    cluster does, all get the same spread.
    """
    sizes = res.sizes()
    spread = np.bincount(res.labels, weights=exact_distances(res), minlength=res.k) / np.maximum(sizes, 1)
    mean = float(spread[sizes > 0].mean()) if (sizes > 0).any() else 0.0
    if mean <= 0:
        return np.ones(res.k)
    return spread / mean + 1e-6


def rank_within(labels: np.ndarray, key: np.ndarray, k: int) -> np.ndarray:
    """Rank of every row inside its cluster when sorted by ``key`` ascending (0 = first)."""
    order = np.lexsort((key, labels))
    sorted_labels = labels[order]
    starts = np.searchsorted(sorted_labels, np.arange(k))
    rank = np.empty(len(labels), dtype=np.int64)
    rank[order] = np.arange(len(labels)) - starts[sorted_labels]
    return rank


class EmbeddingSelector(BaseSelector):
    """Base of the embedding-space selectors (clustering, budget per cluster, coverage metrics)."""

    requires: ClassVar[tuple[str, ...]] = ("vectors",)
    supports_tokens: ClassVar[bool] = False
    params: ClassVar[tuple[Param, ...]] = (COVERAGE,)

    #: Embedding (``--model``) and reading run on Ray; the fit itself runs on the gathered vectors.
    engines: ClassVar[tuple[str, ...]] = ("local", "ray")
    #: k-means initialisations; a parameter (:data:`RESTARTS`) of the selectors that offer it.
    restarts: int = 1

    def _clusters(self, sig: Signals, seed: int, k: int | None = None) -> KMeansResult:
        """k-means of the vectors into ``k`` clusters (default from ``n_clusters``).

        A stored clustering (``sig.clusters``, from ``datadiet cluster``) made with the same
        ``k``, metric, seed, iterations and restarts is used instead of clustering again.
        """
        assert sig.vectors is not None
        n = len(sig)
        if k is None:
            k = auto_clusters(n) if self.n_clusters == "auto" else int(self.n_clusters)
        k = min(int(k), n)
        restarts = int(self.restarts)
        stored = sig.clusters
        if stored is not None and stored.params.get("rows") != "subset" and len(stored.labels) == n and \
                {k_: stored.params.get(k_) for k_ in ("k", "metric", "seed", "niter")} == \
                {"k": k, "metric": self.metric, "seed": seed, "niter": self.niter} and \
                stored.params.get("restarts", 1) == restarts:
            self.clusters_from_ = "stored"
            return KMeansResult(stored.centroids, stored.labels, stored.distances, self.metric == "cosine")
        self.clusters_from_ = "computed"
        try:
            res = kmeans(sig.vectors, k, spherical=self.metric == "cosine", seed=seed, niter=self.niter,
                         ids=sig.ids, restarts=restarts)
        except ValueError as e:
            if "distinct" not in str(e):
                raise
            from datadiet.index._kmeans import row_hashes

            distinct = len(np.unique(row_hashes(np.asarray(sig.vectors))))
            res = kmeans(sig.vectors, min(k, distinct), spherical=self.metric == "cosine", seed=seed,
                         niter=self.niter, ids=sig.ids, max_train=max(distinct, len(sig)), restarts=restarts)
        return res

    def _keys(self, sig: Signals, seed: int) -> np.ndarray:
        return uniform_keys(sig.ids, seed)

    def _partitions(self, sig: Signals, target: Any, seed: int
                    ) -> tuple[KMeansResult, np.ndarray, list[tuple[int, np.ndarray, int]]]:
        """k-means partitions of about ``partition_size`` rows, each with its share of the budget by size.

        Returns the clustering, the rows' ``(seed, id)`` keys and ``(cluster, rows, quota)`` for every
        partition with a positive quota (rows in key order), so a quadratic method runs per partition.
        """
        n = len(sig)
        total = int(target.examples or n)
        size = getattr(self, "partition_size", n)
        n_parts = math.ceil(n / size) if self.n_clusters == "auto" else int(self.n_clusters)
        res = self._clusters(sig, seed, n_parts)
        sizes = res.sizes()
        q = allocate(sizes.astype(float), sizes, total)
        keys = self._keys(sig, seed)
        order = np.lexsort((keys, res.labels))
        bounds = np.searchsorted(res.labels[order], np.arange(res.k + 1))
        parts = [(c, order[bounds[c]:bounds[c + 1]], int(q[c])) for c in range(res.k)
                 if q[c] > 0 and bounds[c + 1] > bounds[c]]
        return res, keys, parts

    def _finish(self, sig: Signals, chosen: np.ndarray, seed: int, res: KMeansResult | None,
                repeats: np.ndarray | None = None, extra_metrics: dict[str, Any] | None = None,
                weights: np.ndarray | None = None, labels: np.ndarray | None = None) -> Picked:
        chosen = np.asarray(chosen, dtype=np.int64)
        order = np.argsort(chosen, kind="stable")
        chosen = chosen[order]
        if repeats is not None:
            repeats = np.asarray(repeats)[order]
        if weights is not None:
            weights = np.asarray(weights)[order]
        assert sig.vectors is not None
        if labels is None and res is not None:
            labels = res.labels
        metrics = coverage_metrics(sig.vectors, chosen, labels=labels, metric=self.metric,
                                   keys=self._keys(sig, derived_seed(seed, "coverage")), distances=self.coverage)
        metrics.update(extra_metrics or {})
        if res is not None:
            metrics["clusters_from"] = getattr(self, "clusters_from_", "computed")
        extra: dict[str, Any] = {}
        if labels is not None:
            extra["cluster"] = np.asarray(labels).astype(np.int32)
        return Picked(chosen, repeats=repeats, weights=weights, metrics={"coverage": metrics, **(
            {"clusters": int(np.unique(labels).size)} if labels is not None else {})}, extra=extra)
