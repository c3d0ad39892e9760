"""Every selector passes the shared check suite on real data (BBC News)."""

import functools

import numpy as np
import pytest

from datadiet import (
    GroupBalanceSelector,
    RandomSelector,
    ScoreProportionalSampler,
    SoftCapSampler,
    TopKSelector,
)
from datadiet.signals import Signals
from datadiet.signals._tokens import estimate_tokens
from tests.checks import run_selector_checks


@pytest.fixture(scope="module")
def signals(bbc):
    text = bbc.column("text").combine_chunks()
    tokens = estimate_tokens(text)
    return Signals.from_arrays(bbc.column("id"), groups=bbc.column("topic"), tokens=tokens,
                               scores={"length": tokens.astype(float)})


CASES = {
    "random": (RandomSelector, {}, False),
    "balance-down": (functools.partial(GroupBalanceSelector, alpha=0.5), {}, False),
    "balance-up": (functools.partial(GroupBalanceSelector, alpha=0.0, mode="upsample", max_repeats=3), {}, True),
    "topk": (TopKSelector, {}, False),
    "score-sample": (ScoreProportionalSampler, {}, False),
    "softcap": (functools.partial(SoftCapSampler, max_repeats=3), {}, True),
}


@pytest.mark.parametrize("name", list(CASES))
def test_check_suite(name, signals):
    make, _, repeats = CASES[name]
    run_selector_checks(make, signals, budget=700, repeats=repeats)


def test_upweight_weights_sum_to_budget(signals):
    sel = GroupBalanceSelector(budget=2000, alpha=0.0, mode="upweight").fit(signals)
    assert np.isclose(sel.weights_.sum(), 2000)
    assert len(sel.selected_indices_) <= 2000
    g = sel.selection_.metrics["groups"]
    assert all(np.isclose(d["weight"], 400) for d in g.values())
