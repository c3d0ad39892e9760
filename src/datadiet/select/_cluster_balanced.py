"""Cluster-balanced sampling in the manner of ClusterClip (temperature + repetition clip)."""

from __future__ import annotations

from typing import Any

import numpy as np

from datadiet._core._errors import DataError
from datadiet.select._base import Picked, Target, check_number
from datadiet.select._embed_base import EmbeddingSelector, allocate, rank_within
from datadiet.signals._table import Signals

__all__ = ["ClusterBalancedSelector"]


class ClusterBalancedSelector(EmbeddingSelector):
    """Sample clusters by a temperature, with a cap on how often any example repeats.

    The vectors are clustered (k-means); cluster ``c`` of ``n_c`` rows gets a share
    ``∝ n_c ** alpha`` of the budget (``alpha=1`` keeps the natural mix, ``0``
    makes clusters equal: rare clusters up, common clusters down). A cluster never
    gets more than ``max_repeats * n_c`` draws; what it cannot take goes to the
    others. Inside a cluster every row is repeated ``q_c // n_c`` times and the
    remaining draws go to the rows with the smallest ``(seed, id)`` keys.

    Parameters
    ----------
    budget : int, float or str
        Examples (counting repeats) or a fraction.
    alpha : float, default 0.5
    max_repeats : int, default 1
        Repetition clip; ``1`` samples without repetition.
    n_clusters : int or "auto", default "auto"
        ``auto`` is ``round(sqrt(n))``.
    metric : {"cosine", "l2"}, default "cosine"
    niter : int, default 20
    seed : int, default 0
    allow_all : bool, default False

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

    def __init__(self, *, budget: Any, alpha: float = 0.5, max_repeats: int = 1, n_clusters: Any = "auto",
                 metric: str = "cosine", niter: int = 20, seed: Any = 0, allow_all: bool = False) -> None:
        self.budget = budget
        self.alpha = alpha
        self.max_repeats = max_repeats
        self.n_clusters = n_clusters
        self.metric = metric
        self.niter = niter
        self.seed = seed
        self.allow_all = allow_all

    @property  # type: ignore[override]
    def allows_repeats(self) -> bool:  # type: ignore[override]
        return isinstance(self.max_repeats, int) and self.max_repeats > 1

    def _check_params(self) -> None:
        self._check_common()
        check_number("alpha", self.alpha, low=0.0)
        check_number("max_repeats", self.max_repeats, low=1, integer=True)

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
