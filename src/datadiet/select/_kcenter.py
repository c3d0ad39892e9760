"""Greedy k-center (farthest-first traversal), run per partition and merged."""

from __future__ import annotations

import numpy as np

from datadiet._core import Param, register
from datadiet.index._kmeans import as_float32, take_rows
from datadiet.select._base import BUDGETED, Picked, Target
from datadiet.select._embed_base import CLUSTERING, EmbeddingSelector
from datadiet.signals._table import Signals

__all__ = ["KCenterSelector", "greedy_k_center"]


def _dist_to(x: np.ndarray, c: np.ndarray, cosine: bool) -> np.ndarray:
    if cosine:
        return np.maximum(1.0 - x @ c, 0.0)
    diff = x - c
    return np.sqrt(np.einsum("ij,ij->i", diff, diff))


def greedy_k_center(x: np.ndarray, k: int, *, metric: str = "l2", first: int = 0) -> tuple[np.ndarray, float]:
    """Farthest-first traversal: ``k`` centres and the covering radius (a 2-approximation).

    ``x`` must be float32 (and unit rows for ``metric="cosine"``). O(n k d) time, O(n) memory.

    Examples
    --------
    >>> import numpy as np
    >>> c, r = greedy_k_center(np.array([[0.0], [1], [10], [11]], np.float32), 2)
    >>> c.tolist(), r
    ([0, 3], 1.0)
    """
    n = x.shape[0]
    cosine = metric == "cosine"
    centres = np.empty(min(k, n), dtype=np.int64)
    mind = np.full(n, np.inf, dtype=np.float32)
    nxt = first
    for t in range(len(centres)):
        centres[t] = nxt
        np.minimum(mind, _dist_to(x, x[nxt], cosine), out=mind)
        mind[centres[: t + 1]] = -1.0  # never pick a centre twice (exact duplicates have distance 0)
        nxt = int(np.argmax(mind))
    return centres, max(float(mind.max()), 0.0) if n else 0.0


@register("select")
class KCenterSelector(EmbeddingSelector):
    """k-center greedy inside partitions (k-means clusters), merged.

    The data are split into ``ceil(n / partition_size)`` k-means partitions; each
    gets a share of the budget proportional to its size, and farthest-first
    traversal, started at the row nearest the partition's centroid, picks its
    centres. One partition gives the classic greedy 2-approximation of the
    minimum covering radius; partitions keep the cost at O(n * budget_p * d)
    instead of O(n * budget * d).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(500, 3))
    >>> sel = KCenterSelector(budget=20, metric="l2").fit(vectors=x)
    >>> len(sel.selected_indices_), sel.covering_radius_ > 0
    (20, True)
    """

    method = "kcenter"

    params = (
        *BUDGETED,
        Param("partition_size", "int", 5000, "rows per k-means partition (the greedy runs per partition)", low=2),
        *CLUSTERING,
    )

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        assert sig.vectors is not None
        res, _, parts = self._partitions(sig, target, seed)
        chosen, radius = [], 0.0
        for _, rows, quota in parts:
            x = as_float32(take_rows(sig.vectors, rows), normalize=self.metric == "cosine")
            first = int(np.argmin(res.distances[rows]))
            centres, r = greedy_k_center(x, quota, metric=self.metric, first=first)
            chosen.append(rows[centres])
            radius = max(radius, r)
        self.covering_radius_ = radius
        return self._finish(sig, np.concatenate(chosen), seed, res,
                            extra_metrics={"partitions": res.k, "covering_radius": round(radius, 6)})
