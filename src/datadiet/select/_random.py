"""Uniform random selection by id-keyed Gumbel-top-k."""

from __future__ import annotations

from typing import Any

import numpy as np

from datadiet._core._hashing import uniform_keys
from datadiet.select._base import BaseSelector, Picked, Target, take_prefix
from datadiet.signals._table import Signals

__all__ = ["RandomSelector"]


class RandomSelector(BaseSelector):
    """Keep a uniform random subset; each row's key is a hash of ``(seed, id)``.

    Rows are ranked by their key and the first ones that fit the budget are kept,
    so the same seed keeps the same ids whatever the row order, sharding or
    engine. With a token budget, rows are added in key order while they fit.

    Parameters
    ----------
    budget : int, float or str
        Examples (``1000``), fraction (``"10%"``) or tokens (``"5M-tokens"``).
    seed : int, numpy Generator or None, default 0
    allow_all : bool, default False
        Keep everything when the budget exceeds the input instead of raising.

    Examples
    --------
    >>> sel = RandomSelector(budget=2, seed=0).fit(ids=["a", "b", "c", "d"])
    >>> len(sel.selected_indices_)
    2
    """

    method = "random"

    def __init__(self, *, budget: Any, seed: int | np.random.Generator | None = 0,
                 allow_all: bool = False) -> None:
        self.budget = budget
        self.seed = seed
        self.allow_all = allow_all

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        keys = uniform_keys(sig.ids, seed)
        if target.examples is not None:
            k = target.examples
            chosen = np.argpartition(keys, k - 1)[:k] if k < len(keys) else np.arange(len(keys))
        else:
            chosen = take_prefix(np.argsort(keys, kind="stable"), target, sig.tokens)
        return Picked(np.sort(chosen))
