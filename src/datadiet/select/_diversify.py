"""Diversify-and-Conquer style cluster sampling: per-cluster budget from size and importance."""

from __future__ import annotations

import numpy as np

from datadiet._core import Param, register
from datadiet._core._allocate import allocate
from datadiet._core._errors import DataError
from datadiet.select._base import BUDGETED, Picked, Target
from datadiet.select._embed_base import CLUSTERING, EmbeddingSelector, cluster_spread, rank_within
from datadiet.select._scores import combine_scores
from datadiet.signals._table import Signals

__all__ = ["DiversifySelector"]


@register("select")
class DiversifySelector(EmbeddingSelector):
    """Choose how many examples each cluster gives from its size and an importance score.

    Cluster ``c`` gets budget ``∝ n_c ** size_power * importance_c``, capped at its
    size. ``importance="spread"`` uses the cluster's mean distance to its centroid
    (wide, varied clusters give more); ``"score"`` uses the mean of the (combined)
    ``--score`` columns in the cluster. Inside a cluster the rows with the highest
    score (``"score"``) or the smallest ``(seed, id)`` keys (``"spread"``) are kept.
    With ``n_rounds > 1`` the budget is spent in rounds, and a cluster's importance
    is multiplied by the share of it not yet taken before each round (iterated
    refinement: well-covered clusters yield to the others).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(200, 8))
    >>> len(DiversifySelector(budget=30, n_clusters=5).fit(vectors=x).selected_indices_)
    30
    """

    method = "diversify"

    params = (
        *BUDGETED,
        Param("importance", "choice", "spread", "cluster importance: its spread, or its mean score",
              choices=("spread", "score")),
        Param("size_power", "float", 0.5, "cluster share ∝ importance x size^size_power", low=0),
        Param("n_rounds", "int", 1, "refinement rounds (re-cluster what was kept)", low=1, aliases=("--rounds",)),
        *CLUSTERING,
    )

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        n = len(sig)
        total = int(target.examples or n)
        res = self._clusters(sig, seed)
        sizes = res.sizes()
        k = res.k
        if self.importance == "score":
            if not sig.scores:
                raise DataError("importance='score' needs a score: name a column with --score")
            score = combine_scores(sig.scores)
            imp = np.bincount(res.labels, weights=score, minlength=k) / np.maximum(sizes, 1)
            imp = imp - imp.min() + 1e-6
            key = -score
        else:
            imp = cluster_spread(res)
            key = self._keys(sig, seed)
        base = np.power(sizes.astype(float), self.size_power) * imp * (sizes > 0)
        taken = np.zeros(k, dtype=np.int64)
        for r in range(self.n_rounds):
            want = total * (r + 1) // self.n_rounds - int(taken.sum())
            w = base * (1.0 - taken / np.maximum(sizes, 1))
            taken += allocate(w, sizes - taken, want)
        rank = rank_within(res.labels, key, k)
        chosen = np.flatnonzero(rank < taken[res.labels])
        return self._finish(sig, chosen, seed, res, extra_metrics={"importance": self.importance,
                                                                   "n_rounds": self.n_rounds})
