"""Keep examples whose (combined) score lies inside bounds."""

from __future__ import annotations

import numpy as np

from datadiet._core import Param, ParamError, register
from datadiet.select._base import SCORE_PARAMS, BaseSelector, Picked, Target
from datadiet.select._scores import combine_scores
from datadiet.signals._table import Signals

__all__ = ["ThresholdFilter"]


@register("select")
class ThresholdFilter(BaseSelector):
    """Keep rows with ``min <= score <= max``; drop the rest as ``below_threshold`` / ``above_threshold``.

    Examples
    --------
    >>> f = ThresholdFilter(min=0.5).fit(scores={"q": [0.1, 0.7, 0.9]})
    >>> f.selected_indices_.tolist()
    [1, 2]
    """

    method = "threshold"
    requires = ("scores",)

    params = (
        Param("min", "float", None, "lowest combined score kept", none=True),
        Param("max", "float", None, "highest combined score kept", none=True),
        *SCORE_PARAMS,
    )

    def _check_params(self) -> None:
        if self.min is None and self.max is None:
            raise ParamError("min", "a number when max is not given (give min, max or both)", None, "ThresholdFilter")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ParamError("min", f"at most max ({self.max}) so that an example can pass", self.min, "ThresholdFilter")

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        s = combine_scores(sig.scores, self.weights, self.normalize)
        low = s < self.min if self.min is not None else np.zeros(len(s), bool)
        high = s > self.max if self.max is not None else np.zeros(len(s), bool)
        reason = np.where(low, 0, 1).astype(np.int8)
        return Picked(np.flatnonzero(~(low | high)), drop_reason=reason,
                      reason_names=["below_threshold", "above_threshold"], extra={"score": s})
