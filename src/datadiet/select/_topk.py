"""Keep the highest-scoring examples."""

from __future__ import annotations

import numpy as np

from datadiet._core import register
from datadiet.select._base import BUDGETED, SCORE_PARAMS, BaseSelector, Picked, Target, take_prefix
from datadiet.select._scores import combine_scores
from datadiet.signals._table import Signals

__all__ = ["TopKSelector"]


@register("select")
class TopKSelector(BaseSelector):
    """Keep the top of the (combined) score up to the budget; ties broken by an id hash.

    Examples
    --------
    >>> TopKSelector(budget=2).fit(scores=[0.3, 0.9, 0.5]).selected_indices_.tolist()
    [1, 2]
    """

    method = "topk"
    requires = ("scores",)

    params = (*BUDGETED, *SCORE_PARAMS)

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        s = combine_scores(sig.scores, self.weights, self.normalize)
        order = np.lexsort((self._tiebreak(sig, seed), -s))
        return Picked(np.sort(take_prefix(order, target, sig.tokens)), drop_reason="below_threshold",
                      extra={"score": s})
