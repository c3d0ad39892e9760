"""Cluster-balanced sampling in the manner of ClusterClip (temperature + repetition clip)."""

from __future__ import annotations

import numpy as np

from datadiet._core import Param, register
from datadiet._core._allocate import allocate
from datadiet._core._errors import DataError
from datadiet.select._base import BUDGETED, Picked, Target
from datadiet.select._embed_base import CLUSTERING, EmbeddingSelector, rank_within
from datadiet.signals._table import Signals

__all__ = ["ClusterBalancedSelector"]


@register("select")
class ClusterBalancedSelector(EmbeddingSelector):
    """Sample clusters by a temperature, with a cap on how often any example repeats.

    The vectors are clustered (k-means); cluster ``c`` of ``n_c`` rows gets a share
    ``∝ n_c ** alpha`` of the budget (``alpha=1`` keeps the natural mix, ``0``
    makes clusters equal: rare clusters up, common clusters down). A cluster never
    gets more than ``max_repeats * n_c`` draws; what it cannot take goes to the
    others. Inside a cluster every row is repeated ``q_c // n_c`` times and the
    remaining draws go to the rows with the smallest ``(seed, id)`` keys.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.r_[np.zeros((90, 2)) + [1, 0], np.zeros((10, 2)) + [0, 1]]
    >>> x = x + np.random.default_rng(0).normal(scale=0.01, size=x.shape)
    >>> sel = ClusterBalancedSelector(budget=20, alpha=0.0, n_clusters=2).fit(vectors=x)
    >>> sorted(np.bincount(sel.selection_.extra["cluster"][sel.selected_indices_]).tolist())
    [10, 10]
    """

    method = "cluster-balanced"

    params = (
        *BUDGETED,
        Param("alpha", "float", 0.5, "cluster weight ∝ size^alpha (1: natural mix, 0: equal clusters)", low=0),
        Param("max_repeats", "int", 1, "most copies of one example (>1 upsamples small clusters)", low=1),
        *CLUSTERING,
    )

    def repeats_allowed(self) -> bool:
        return bool(self.max_repeats > 1)

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        n = len(sig)
        total = int(target.examples or n)
        if total > n * self.max_repeats:
            if not self.allow_all:
                raise DataError(f"budget {total} is more than {n} rows x max_repeats {self.max_repeats}; "
                                 "raise --max-repeats, lower the budget, or pass --allow-all")
            total = n * self.max_repeats
        res = self._clusters(sig, seed)
        sizes = res.sizes()
        q = allocate(np.power(sizes.astype(float), self.alpha) * (sizes > 0), sizes * self.max_repeats, total)
        full = q // np.maximum(sizes, 1)
        rem = q - full * sizes
        rank = rank_within(res.labels, self._keys(sig, seed), res.k)
        reps = full[res.labels] + (rank < rem[res.labels])
        chosen = np.flatnonzero(reps > 0)
        share = {"min_cluster_draws": int(q[sizes > 0].min()), "max_cluster_draws": int(q.max()),
                 "alpha": self.alpha, "max_repeats": self.max_repeats}
        return self._finish(sig, chosen, seed, res, repeats=reps[chosen], extra_metrics=share)
