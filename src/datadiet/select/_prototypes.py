"""Prototype pruning (SSL prototypes / D4 / concept-cluster complexity)."""

from __future__ import annotations

from typing import Any

import numpy as np

from datadiet.select._base import Picked, Target, check_choice, check_number
from datadiet.select._embed_base import (
    EmbeddingSelector,
    allocate,
    cluster_spread,
    exact_distances,
    rank_within,
)
from datadiet.signals._table import Signals

__all__ = ["PrototypeSelector"]

#: Budget fraction below which ``keep="auto"`` keeps easy (prototypical) examples.
EASY_BELOW = 0.3


class PrototypeSelector(EmbeddingSelector):
    """Keep the most prototypical or the hardest examples of every cluster.

    Rows are clustered; their distance to their centroid measures how typical
    (small) or hard (large) they are. Cluster ``c`` keeps ``∝ n_c * spread_c **
    spread_power`` rows (capped at ``n_c``; ``spread`` is the mean distance to the
    centroid, so dense, redundant clusters are pruned harder, as in concept-cluster
    complexity), choosing inside the cluster the rows closest to the centroid
    (``keep="easy"``) or farthest (``"hard"``; SSL-prototype pruning drops the most
    prototypical). ``keep="auto"`` keeps easy rows when the budget is below
    ``EASY_BELOW`` (30%) of the data and hard rows above, following "keep easy at
    small budgets, hard at large budgets".

    With ``n_clusters="auto"`` and easy rows, there is one cluster per kept row when
    the budget allows (classic k-means prototypes: the row nearest each centroid);
    otherwise ``round(sqrt(n))`` clusters.

    Parameters
    ----------
    budget : int, float or str
    keep : {"auto", "easy", "hard"}, default "auto"
    spread_power : float, default 1.0
        0 splits the budget by cluster size only.
    n_clusters : int or "auto", default "auto"
    max_clusters : int, default 4096
        Upper bound on automatic one-cluster-per-row clustering.
    per_cluster : int, default 1
        With ``n_clusters="auto"`` and easy rows: rows kept per cluster
        (``ceil(budget / per_cluster)`` clusters).
    metric : {"cosine", "l2"}, default "cosine"
    niter : int, default 20
    seed : int, default 0
    allow_all : bool, default False

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(300, 4))
    >>> sel = PrototypeSelector(budget=10, keep="easy", metric="l2").fit(vectors=x)
    >>> len(sel.selected_indices_), sel.selection_.metrics["keep"]
    (10, 'easy')
    """

    method = "prototypes"

    def __init__(self, *, budget: Any, keep: str = "auto", spread_power: float = 1.0, n_clusters: Any = "auto",
                 max_clusters: int = 4096, per_cluster: int = 1, metric: str = "cosine", niter: int = 20, seed: Any = 0,
                 allow_all: bool = False) -> None:
        self.budget = budget
        self.keep = keep
        self.spread_power = spread_power
        self.n_clusters = n_clusters
        self.max_clusters = max_clusters
        self.per_cluster = per_cluster
        self.metric = metric
        self.niter = niter
        self.seed = seed
        self.allow_all = allow_all

    def _check_params(self) -> None:
        self._check_common()
        check_choice("keep", self.keep, ("auto", "easy", "hard"))
        check_number("spread_power", self.spread_power, low=0.0)
        check_number("max_clusters", self.max_clusters, low=1, integer=True)
        check_number("per_cluster", self.per_cluster, low=1, integer=True)

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        n = len(sig)
        total = int(target.examples or n)
        keep = self.keep
        if keep == "auto":
            keep = "easy" if total < EASY_BELOW * n else "hard"
        want = -(-total // self.per_cluster)
        budget_k = want if keep == "easy" and want <= self.max_clusters else None
        res = self._clusters(sig, seed, budget_k if self.n_clusters == "auto" else None)
        sizes = res.sizes()
        spread = cluster_spread(res)
        if res.k * self.per_cluster >= total and keep == "easy":  # classic prototypes: equal share per cluster
            q = allocate((sizes > 0).astype(float), sizes, total)
        else:
            q = allocate(sizes * np.power(spread, self.spread_power), sizes, total)
        tie = self._keys(sig, seed).astype(np.float64) * 1e-9
        dist = exact_distances(res)
        key = dist + tie if keep == "easy" else -dist + tie
        rank = rank_within(res.labels, key, res.k)
        chosen = np.flatnonzero(rank < q[res.labels])
        pick = self._finish(sig, chosen, seed, res)
        pick.metrics["keep"] = keep
        return pick
