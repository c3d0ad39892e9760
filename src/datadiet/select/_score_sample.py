"""Sample without replacement with probability proportional to a score."""

from __future__ import annotations

import numpy as np

from datadiet._core import Param, register
from datadiet._core._errors import DataError
from datadiet._core._hashing import uniform_keys
from datadiet.select._base import BUDGETED, SCORE_PARAMS, BaseSelector, Picked, Target, take_prefix
from datadiet.select._scores import combine_scores
from datadiet.signals._table import Signals

__all__ = ["ScoreProportionalSampler", "sampling_weights"]


def sampling_weights(score: np.ndarray, power: float) -> np.ndarray:
    """``score ** power`` after checking scores are non-negative and not all zero."""
    if (score < 0).any():
        raise DataError(f"score-proportional sampling needs scores >= 0; the smallest is {score.min():g} "
                         "(use normalize='rank' or 'minmax' to map scores to [0, 1])")
    w = np.power(score, power)
    if not (w > 0).any():
        raise DataError("every score is 0: nothing can be sampled in proportion to the score")
    return w


@register("select")
class ScoreProportionalSampler(BaseSelector):
    """Weighted sampling without replacement, ``P(row) ∝ score ** power`` (Efraimidis–Spirakis keys).

    Each row's key is ``log(u) / w`` with ``u`` a uniform hash of ``(seed, id)``;
    the largest keys are kept, which is exactly sequential weighted sampling
    without replacement, and independent of row order. Rows with score 0 are
    never chosen before rows with positive score.

    Examples
    --------
    >>> s = ScoreProportionalSampler(budget=1, seed=0).fit(scores=[0.0, 1.0, 0.0])
    >>> s.selected_indices_.tolist()
    [1]
    """

    method = "score-sample"
    requires = ("scores",)

    params = (
        *BUDGETED,
        Param("power", "float", 1.0, "sharpening exponent on the score (0: uniform, large: close to top-k)", low=0),
        *SCORE_PARAMS,
    )

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        s = combine_scores(sig.scores, self.weights, self.normalize)
        w = sampling_weights(s, self.power)
        with np.errstate(divide="ignore"):
            key = np.log(uniform_keys(sig.ids, seed)) / w  # -inf for w == 0
        order = np.lexsort((self._tiebreak(sig, seed), -key))
        return Picked(np.sort(take_prefix(order, target, sig.tokens)), extra={"score": s})
