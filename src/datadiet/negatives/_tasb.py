"""TAS-B batches: every batch from one topic cluster of queries, margins spread evenly.

Topic-aware sampling (Hofstätter et al., 2021): the queries are clustered once
with k-means; each batch takes its rows from one cluster, so in-batch negatives
are on topic. With teacher ``margins`` (e.g. ``s(q, d+) - s(q, d-)`` of a
cross-encoder) rows are stratified by margin (global quantile bins) inside each
cluster, so each batch holds easy and hard pairs in the cluster's proportions
(the balanced-margin sampling of the paper without dropping rows). The rows
left over when a cluster does not fill its last batch are pooled into mixed
batches, so every row is used exactly once per epoch.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from datadiet._core import DataError, Param, register
from datadiet.negatives._batching import BatchComposer, chunk

__all__ = ["TASBComposer"]


@register("batches")
class TASBComposer(BatchComposer):
    """Topic-aware (TAS-B) batches from k-means clusters of the query vectors.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.r_[np.tile([10.0, 0], (8, 1)), np.tile([0, 10.0], (8, 1))] + np.random.default_rng(0).normal(size=(16, 2))
    >>> c = TASBComposer(batch_size=4, n_clusters=2).fit(x)
    >>> [len(set(c.clusters_[b])) for b in c]
    [1, 1, 1, 1]
    """

    method = "tas-b"
    summary = "each batch from one k-means topic cluster of the queries, margins stratified"
    params: ClassVar[tuple[Param, ...]] = (
        Param("n_clusters", "int", None, "k-means clusters (default: rows // (8 * batch_size), at least 1)",
              none=True, low=1),
        Param("margin_bins", "int", 10, "quantile bins of the teacher margins", low=1),
    )

    def fit(self, query_vectors: Any, margins: Any = None) -> TASBComposer:
        """Cluster ``query_vectors`` (one row per training row); ``margins`` (n,) are optional."""
        from datadiet.index import kmeans

        x = np.asarray(query_vectors, dtype=np.float32)
        if x.ndim != 2:
            raise DataError(f"query_vectors must be 2-D (rows, dimensions); got shape {x.shape}")
        self._start_fit(len(x))
        n = len(x)
        k = self.n_clusters if self.n_clusters is not None else max(1, n // (8 * self.batch_size))
        if k > n:
            raise DataError(f"TASBComposer: n_clusters ({k}) is larger than the number of rows ({n})")
        self.clusters_ = kmeans(x, int(k), spherical=True, seed=self.seed_).labels.astype(np.int64)
        self.bins_ = np.zeros(n, dtype=np.int64)
        if margins is not None:
            m = np.asarray(margins, dtype=np.float64).ravel()
            if len(m) != n or not np.isfinite(m).all():
                raise DataError(f"margins must be {n} finite numbers, one per row; got {len(m)}")
            edges = np.quantile(m, np.linspace(0, 1, self.margin_bins + 1)[1:-1])
            self.bins_ = np.searchsorted(edges, m, side="right").astype(np.int64)
        return self

    def _epoch_batches(self, epoch: int) -> list[np.ndarray]:
        n, bs = self.n_rows_, self.batch_size
        u = self._epoch_keys(epoch)
        group = self.clusters_ * (int(self.bins_.max()) + 1) + self.bins_
        # rank of each row inside its (cluster, margin bin) group, in key order -> spread over [0, 1)
        order = np.lexsort((u, group))
        g_sorted = group[order]
        starts = np.r_[0, np.nonzero(np.diff(g_sorted))[0] + 1]
        sizes = np.diff(np.r_[starts, n])
        rank = np.arange(n) - np.repeat(starts, sizes)
        spread = np.empty(n)
        spread[order] = (rank + 0.5) / np.repeat(sizes, sizes)
        cluster_key = self._epoch_keys(epoch, "clusters")[: self.clusters_.max() + 1]
        rows = np.lexsort((u, spread, cluster_key[self.clusters_]))
        cl = self.clusters_[rows]
        starts = np.r_[0, np.nonzero(np.diff(cl))[0] + 1]
        ends = np.r_[starts[1:], n]
        batches: list[np.ndarray] = []
        leftover: list[np.ndarray] = []
        for s, e in zip(starts, ends):
            full = s + (e - s) // bs * bs
            batches.extend(chunk(rows[s:full], bs))
            if full < e:
                leftover.append(rows[full:e])
        if leftover:
            batches.extend(chunk(np.concatenate(leftover), bs))
        return batches
