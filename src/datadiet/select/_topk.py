"""Keep the highest-scoring examples."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from datadiet.select._base import BaseSelector, Picked, Target, take_prefix
from datadiet.select._scores import combine_scores
from datadiet.signals._table import Signals

__all__ = ["TopKSelector"]


class TopKSelector(BaseSelector):
    """Keep the top of the (combined) score up to the budget; ties broken by an id hash.

    Parameters
    ----------
    budget : int, float or str
    weights : dict of column -> float, optional
        Negative weights prefer low values.
    normalize : str, default "auto"
        See :func:`combine_scores`.
    seed : int, default 0
        Only used to break ties.
    allow_all : bool, default False

    Examples
    --------
    >>> TopKSelector(budget=2).fit(scores=[0.3, 0.9, 0.5]).selected_indices_.tolist()
    [1, 2]
    """

    method = "topk"
    requires = ("scores",)

    def __init__(self, *, budget: Any, weights: Mapping[str, float] | None = None,
                 normalize: str = "auto", seed: int | np.random.Generator | None = 0,
                 allow_all: bool = False) -> None:
        self.budget = budget
        self.weights = weights
        self.normalize = normalize
        self.seed = seed
        self.allow_all = allow_all

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        s = combine_scores(sig.scores, self.weights, self.normalize)
        order = np.lexsort((self._tiebreak(sig, seed), -s))
        return Picked(np.sort(take_prefix(order, target, sig.tokens)), drop_reason="below_threshold",
                      extra={"score": s})
