"""The shared check suite every selector passes (DESIGN.md: "A shared check suite")."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from datadiet.signals import Signals


def run_selector_checks(make: Callable[..., Any], signals: Signals, budget: int, *,
                        exact_budget: bool = True, repeats: bool = False) -> None:
    """Check the estimator contract and selection invariants for ``make(budget=..., seed=...)``."""
    n = len(signals)
    # returns self; params stored untouched
    sel = make(budget=budget, seed=3)
    before = copy.deepcopy(sel.get_params())
    assert sel.fit(signals) is sel
    assert sel.get_params() == before
    # indices unique, sorted and in range; arrays consistent
    idx = sel.selected_indices_
    assert idx.dtype.kind == "i"
    assert len(np.unique(idx)) == len(idx)
    assert (idx >= 0).all() and (idx < n).all()
    s = sel.selection_
    assert len(s) == n
    assert s.kept.sum() == len(idx)
    assert (s.repeats[~s.kept] == 0).all() and (s.repeats[s.kept] >= 1).all()
    assert (s.reason[s.kept] == -1).all() and (s.reason[~s.kept] >= 0).all()
    # budget respected exactly
    if exact_budget:
        total = int(s.repeats.sum()) if repeats else len(idx)
        assert total == budget, (total, budget)
    # deterministic under a seed
    again = make(budget=budget, seed=3).fit(signals)
    np.testing.assert_array_equal(again.selected_indices_, idx)
    np.testing.assert_array_equal(again.selection_.repeats, s.repeats)
    # input not mutated
    ids_before = signals.ids.to_pylist()
    groups_before = None if signals.groups is None else signals.groups.copy()
    scores_before = {k: v.copy() for k, v in signals.scores.items()}
    make(budget=budget, seed=4).fit(signals)
    assert signals.ids.to_pylist() == ids_before
    if groups_before is not None:
        np.testing.assert_array_equal(signals.groups, groups_before)
    for k, v in scores_before.items():
        np.testing.assert_array_equal(signals.scores[k], v)
    # budget >= n: refused without allow_all (unless repeats are allowed), all kept with it
    if not repeats:
        with pytest.raises(ValueError, match="allow_all"):
            make(budget=n + 1, seed=0).fit(signals)
        assert len(make(budget=n + 1, seed=0, allow_all=True).fit(signals).selected_indices_) == n
    # empty input
    empty = Signals.from_arrays(ids=np.zeros(0, dtype=np.int64), **_empty_like(signals))
    with pytest.raises(ValueError, match="no examples"):
        make(budget=1, seed=0).fit(empty)
    # bad budgets rejected
    for bad in (0, -5, "abc", "150%"):
        with pytest.raises((ValueError, TypeError)):
            make(budget=bad, seed=0).fit(signals)
    # bad seed rejected
    with pytest.raises(TypeError, match="seed"):
        make(budget=budget, seed="x").fit(signals)


def _empty_like(signals: Signals) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    if signals.groups is not None:
        kw["groups"] = np.array([], dtype=str)
    if signals.scores:
        kw["scores"] = {k: np.zeros(0) for k in signals.scores}
    if signals.vectors is not None:
        kw["vectors"] = np.zeros((0, signals.vectors.shape[1]), np.float32)
    return kw
