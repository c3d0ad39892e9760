"""Keep examples whose (combined) score lies inside bounds."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from datadiet._core._errors import DataError
from datadiet.select._base import BaseSelector, Picked, Target, check_number
from datadiet.select._scores import combine_scores
from datadiet.signals._table import Signals

__all__ = ["ThresholdFilter"]


class ThresholdFilter(BaseSelector):
    """Keep rows with ``min <= score <= max``; drop the rest as ``below_threshold`` / ``above_threshold``.

    Parameters
    ----------
    min, max : float, optional
        Bounds on the combined score (at least one).
    weights : dict of column -> float, optional
        Weights for combining several score columns.
    normalize : str, default "auto"
        See :func:`combine_scores`.

    Examples
    --------
    >>> f = ThresholdFilter(min=0.5).fit(scores={"q": [0.1, 0.7, 0.9]})
    >>> f.selected_indices_.tolist()
    [1, 2]
    """

    method = "threshold"
    requires = ("scores",)

    def __init__(self, *, min: float | None = None, max: float | None = None,
                 weights: Mapping[str, float] | None = None, normalize: str = "auto") -> None:
        self.min = min
        self.max = max
        self.weights = weights
        self.normalize = normalize
        self.budget = None
        self.seed = 0
        self.allow_all = False

    def _check_params(self) -> None:
        if self.min is None and self.max is None:
            raise DataError("ThresholdFilter needs min, max or both (--min / --max)")
        check_number("min", self.min, allow_none=True)
        check_number("max", self.max, allow_none=True)
        if self.min is not None and self.max is not None and self.min > self.max:
            raise DataError(f"min ({self.min}) is above max ({self.max}): no example could pass")

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        s = combine_scores(sig.scores, self.weights, self.normalize)
        low = s < self.min if self.min is not None else np.zeros(len(s), bool)
        high = s > self.max if self.max is not None else np.zeros(len(s), bool)
        reason = np.where(low, 0, 1).astype(np.int8)
        return Picked(np.flatnonzero(~(low | high)), drop_reason=reason,
                      reason_names=["below_threshold", "above_threshold"], extra={"score": s})
