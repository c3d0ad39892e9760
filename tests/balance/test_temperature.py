"""Group balancing on real data (BBC News, 5 topics of 386..511 articles)."""

import numpy as np
import pytest

from datadiet import GroupBalanceSelector
from datadiet.signals import Signals
from datadiet.signals._tokens import estimate_tokens
from tests.checks import run_selector_checks


@pytest.fixture(scope="module")
def sig(bbc):
    return Signals.from_arrays(bbc.column("id"), groups=bbc.column("topic"),
                               tokens=estimate_tokens(bbc.column("text").combine_chunks()))


def per(sel):
    return sel.selection_.metrics["groups"]


def test_alpha_one_keeps_the_natural_mix_and_zero_equalises(sig):
    nat = per(GroupBalanceSelector(budget=1000, alpha=1.0).fit(sig))
    sizes = {g: d["input"] for g, d in nat.items()}
    for g, d in nat.items():
        assert abs(d["kept"] - 1000 * sizes[g] / 2225) <= 1
    eq = per(GroupBalanceSelector(budget=1000, alpha=0.0).fit(sig))
    assert {d["kept"] for d in eq.values()} == {200}


def test_downsample_redistributes_what_small_groups_cannot_give(sig):
    res = per(GroupBalanceSelector(budget=2200, alpha=0.0).fit(sig))
    assert res["entertainment"]["kept"] == 386  # all of the smallest topic
    assert sum(d["kept"] for d in res.values()) == 2200


def test_upsample_vs_upweight_on_the_same_data(sig):
    up = GroupBalanceSelector(budget=3000, alpha=0.0, mode="upsample", max_repeats=2).fit(sig)
    w = GroupBalanceSelector(budget=3000, alpha=0.0, mode="upweight").fit(sig)
    assert up.selection_.repeats.sum() == 3000
    assert {d["repeats"] for d in per(up).values()} == {600}
    assert np.isclose(w.selection_.weight.sum(), 3000)
    assert {round(d["weight"], 6) for d in per(w).values()} == {600.0}
    assert w.selection_.n_kept == 2225  # each kept once, upweighted instead of repeated
    with pytest.raises(ValueError, match="at most"):
        GroupBalanceSelector(budget=6000, alpha=0.0, mode="upsample", max_repeats=2).fit(sig)


def test_quotas_and_caps(sig):
    res = per(GroupBalanceSelector(budget=600, quotas={"tech": 300}, alpha=0.0).fit(sig))
    assert res["tech"]["kept"] == 300
    assert all(res[g]["kept"] == 75 for g in res if g != "tech")
    capped = per(GroupBalanceSelector(budget=1500, caps={"sport": 100}, alpha=1.0).fit(sig))
    assert capped["sport"]["kept"] == 100
    assert sum(d["kept"] for d in capped.values()) == 1500
    with pytest.raises(ValueError, match="names group 'weather'.*groups: business"):
        GroupBalanceSelector(budget=10, quotas={"weather": 3}).fit(sig)
    with pytest.raises(ValueError, match="more than the budget"):
        GroupBalanceSelector(budget=10, quotas={"tech": 30}).fit(sig)


def test_token_budget_is_met_within_one_example(sig):
    budget = 200_000
    sel = GroupBalanceSelector(budget=f"{budget}-tokens", alpha=0.0).fit(sig)
    kept_tokens = sig.tokens[sel.selected_indices_].sum()
    assert kept_tokens <= budget
    assert budget - kept_tokens < sig.tokens.max()
    tok_per_group = {g: sig.tokens[sel.selected_indices_][sig.groups[sel.selected_indices_] == i].sum()
                     for i, g in enumerate(sig.group_names)}
    vals = np.array(list(tok_per_group.values()))
    assert vals.max() / vals.min() < 1.1  # equal token shares (alpha 0)


def test_bad_params(sig):
    for kw, match in [({"alpha": -1}, "alpha"), ({"mode": "up"}, "mode must be one of"),
                      ({"max_repeats": 0}, "max_repeats"), ({"quotas": [1, 2]}, "quotas must be a mapping")]:
        with pytest.raises((ValueError, TypeError), match=match):
            GroupBalanceSelector(budget=10, **kw).fit(sig)
    with pytest.raises(ValueError, match="needs a group or label column"):
        GroupBalanceSelector(budget=10).fit(ids=[1, 2, 3])


def test_upweight_passes_check_suite(sig):
    import functools

    run_selector_checks(functools.partial(GroupBalanceSelector, alpha=0.3, mode="upweight"), sig, budget=500,
                        exact_budget=False, repeats=True)


def test_upweight_keeps_a_row_for_every_share():
    # found by hypothesis: budget 1 over two groups of one row; both shares (0.5) must survive rounding
    sel = GroupBalanceSelector(budget=1, alpha=0.0, mode="upweight").fit(groups=["a", "b"])
    assert sel.selection_.weight.tolist() == [0.5, 0.5]
