"""Soft-cap sampling: repeats in proportion to a score, capped per example."""

from __future__ import annotations

import numpy as np

from datadiet._core import Param, register
from datadiet._core._allocate import water_fill
from datadiet._core._errors import DataError
from datadiet._core._hashing import uniform_keys
from datadiet.select._base import BUDGETED, SCORE_PARAMS, BaseSelector, Picked, Target
from datadiet.select._score_sample import sampling_weights
from datadiet.select._scores import combine_scores
from datadiet.signals._table import Signals

__all__ = ["SoftCapSampler"]


@register("select")
class SoftCapSampler(BaseSelector):
    """Give each example an expected repeat count ``∝ score ** power``, capped at ``max_repeats``.

    The expected counts are water-filled so that they sum to the budget with no
    example above the cap; each row gets ``floor`` of its count and the leftover
    units go to rows chosen by weighted sampling on the fractional parts (keyed by
    ``(seed, id)``), so the total equals the budget exactly. A budget larger than
    the input is allowed (up to ``max_repeats`` times the input).

    Examples
    --------
    >>> s = SoftCapSampler(budget=5, max_repeats=3).fit(scores=[1.0, 1.0, 10.0])
    >>> s.selection_.repeats.tolist()
    [1, 1, 3]
    """

    method = "softcap"
    requires = ("scores",)
    supports_tokens = False

    def repeats_allowed(self) -> bool:
        return True

    params = (
        *BUDGETED,
        Param("max_repeats", "int", 4, "most copies of one example", low=1),
        Param("power", "float", 1.0, "sharpening exponent on the score (0: uniform, large: close to top-k)", low=0),
        *SCORE_PARAMS,
    )

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        assert target.examples is not None
        n = len(sig)
        k = target.examples
        if k > n * self.max_repeats:
            if not self.allow_all:
                raise DataError(f"budget {k} needs more than max_repeats={self.max_repeats} copies of each "
                                 f"of the {n} examples; raise max_repeats or lower the budget")
            k = n * self.max_repeats
        s = combine_scores(sig.scores, self.weights, self.normalize)
        w = sampling_weights(s, self.power)
        expected = water_fill(w / w.sum(), np.full(n, float(self.max_repeats)), k)
        reps = np.floor(expected + 1e-9).astype(np.int64)
        short = k - int(reps.sum())
        if short > 0:
            frac = np.clip(expected - reps, 0, None)
            with np.errstate(divide="ignore"):
                key = np.log(uniform_keys(sig.ids, seed)) / frac
            key[reps >= self.max_repeats] = -np.inf
            order = np.lexsort((self._tiebreak(sig, seed), -key))
            reps[order[:short]] += 1
        chosen = np.flatnonzero(reps > 0)
        return Picked(chosen, reps[chosen], extra={"score": s, "expected_repeats": expected},
                      metrics={"max_repeats_used": int(reps.max())})
