"""``auto`` (issue 14): a stratified random floor, prototypes only when a labelled check says they help."""

import numpy as np
import pytest

from datadiet.select import AutoSelector
from datadiet.select._auto import auto_rule, centroid_check
from datadiet.signals import HashedEncoder, Signals


@pytest.fixture(scope="module")
def bbc_hashed(bbc):
    """BBC News (first 500 characters, 5 topics) embedded with the built-in hashed encoder."""
    texts = [t[:500] for t in bbc.column("text").to_pylist()]
    vec = HashedEncoder(dim=64).fit([texts]).encode(texts)
    return Signals.from_arrays(bbc.column("id"), vectors=vec, groups=bbc.column("topic"))


def test_label_free_small_budget_is_cluster_stratified_random(bbc_hashed):
    sig = Signals.from_arrays(bbc_hashed.ids, vectors=bbc_hashed.vectors)
    budget = 45  # 2% of 2,225 articles: prototypes would have been picked before issue 14
    sel = AutoSelector(budget=budget, seed=3).fit(sig)
    info = sel.selection_.metrics["auto"]
    assert sel.chosen_method_ == info["method"] == "stratified-random"
    assert "no labels" in info["why"] and info["stratified_by_group"] is False
    cluster = np.asarray(sel.selection_.extra["cluster"])
    sizes = np.bincount(cluster)
    kept = np.bincount(cluster[sel.selected_indices_], minlength=len(sizes))
    assert len(sel.selected_indices_) == budget
    # proportional allocation: every cluster gets its share of the budget, rounded
    assert np.all(np.abs(kept - sizes * budget / len(sig)) < 1)
    # random within a cluster: another seed draws other rows
    other = AutoSelector(budget=budget, seed=4).fit(sig).selected_indices_
    assert set(other.tolist()) != set(sel.selected_indices_.tolist())


def test_with_labels_small_budget_records_the_check_and_keeps_label_shares(bbc_hashed):
    n = len(bbc_hashed)
    sizes = np.bincount(bbc_hashed.groups)
    for budget in (10, 25):
        sel = AutoSelector(budget=budget, seed=1).fit(bbc_hashed)
        info = sel.selection_.metrics["auto"]
        assert info["stratified_by_group"] is True and set(info["check"]) == {"floor", "prototypes"}
        winner = "prototypes" if info["check"]["prototypes"] > info["check"]["floor"] else "stratified-random"
        assert info["method"] == sel.chosen_method_ == winner and "check" in info["why"]
        kept = np.bincount(bbc_hashed.groups[sel.selected_indices_], minlength=len(sizes))
        assert np.all(np.abs(kept - sizes * budget / n) < 1)  # every topic proportionally, whichever rule won


def test_centroid_check_scores_what_it_picked(bbc_hashed):
    x, y = bbc_hashed.vectors, bbc_hashed.groups
    assert centroid_check(x, y, np.flatnonzero(np.arange(len(x)) % 2), "cosine") > 0.5
    one_class = np.flatnonzero(y == 0)[:5]  # a single class predicts that class for every row
    rest = np.setdiff1d(np.arange(len(x)), one_class)
    assert centroid_check(x, y, one_class, "l2") == pytest.approx(np.mean(y[rest] == 0))


def test_rule_table():
    assert auto_rule(0.001)[0] == auto_rule(0.5)[0] == auto_rule(0.5, grouped=True)[0] == "stratified-random"
    assert auto_rule(0.019, grouped=True)[0] == "prototypes"
