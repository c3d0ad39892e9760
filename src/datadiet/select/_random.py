"""Uniform random selection by id-keyed Gumbel-top-k."""

from __future__ import annotations

import numpy as np

from datadiet._core import register
from datadiet._core._hashing import uniform_keys
from datadiet.select._base import BUDGETED, BaseSelector, Picked, Target, take_prefix
from datadiet.signals._table import Signals

__all__ = ["RandomSelector"]


@register("select")
class RandomSelector(BaseSelector):
    """Keep a uniform random subset; each row's key is a hash of ``(seed, id)``.

    Rows are ranked by their key and the first ones that fit the budget are kept,
    so the same seed keeps the same ids whatever the row order, sharding or
    engine. With a token budget, rows are added in key order while they fit.

    Examples
    --------
    >>> sel = RandomSelector(budget=2, seed=0).fit(ids=["a", "b", "c", "d"])
    >>> len(sel.selected_indices_)
    2
    """

    method = "random"

    params = BUDGETED

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        keys = uniform_keys(sig.ids, seed)
        if target.examples is not None:
            k = target.examples
            chosen = np.argpartition(keys, k - 1)[:k] if k < len(keys) else np.arange(len(keys))
        else:
            chosen = take_prefix(np.argsort(keys, kind="stable"), target, sig.tokens)
        return Picked(np.sort(chosen))
