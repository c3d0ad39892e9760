"""GroupSampler (schedules, modes, online) and the curricula, on BBC News topics where data matters."""

from __future__ import annotations

import numpy as np
import pytest

from datadiet._core import ParamError
from datadiet.train import (
    CurriculumSampler,
    GroupSampler,
    LossWindowSampler,
    RS2Sampler,
    pacing_fraction,
)


@pytest.fixture(scope="module")
def topics(bbc):
    return np.asarray(bbc.column("topic").to_pylist())


def _epoch(s, e):
    s.set_epoch(e)
    return np.array(list(s))


def test_rs2_covers_every_index_once_per_cycle_across_rounds():
    n = 97
    s = RS2Sampler(n, 0.1, seed=4)
    stream = np.concatenate([_epoch(s, e) for e in range(31)])   # 31 rounds of 10 = 3 cycles + 19
    for c in range(3):
        assert sorted(stream[c * n : (c + 1) * n].tolist()) == list(range(n))
    r = RS2Sampler(n, 0.1, replacement=True, seed=4)
    rounds = [_epoch(r, e) for e in range(12)]
    assert all(len(set(x.tolist())) == len(x) == 10 for x in rounds)
    assert len(set(np.concatenate(rounds).tolist())) < 97      # independent rounds repeat before covering


def test_upsample_hits_the_temperature_shares_exactly(topics):
    s = GroupSampler(topics, alpha=0.0, num_samples=1000, seed=0)
    got = np.unique(topics[_epoch(s, 0)], return_counts=True)[1]
    assert got.tolist() == [200] * 5
    nat = GroupSampler(topics, alpha=1.0, seed=0)
    idx = _epoch(nat, 0)
    assert sorted(idx.tolist()) == list(range(len(topics)))   # alpha 1 with n draws = a permutation


def test_downsample_never_repeats_and_upweight_weights_average_one(topics):
    s = GroupSampler(topics, alpha=0.0, mode="downsample", seed=0)
    idx = _epoch(s, 0)
    assert len(set(idx.tolist())) == len(idx)
    sizes = np.unique(topics, return_counts=True)[1]
    assert len(idx) == 5 * sizes.min()
    u = GroupSampler(topics, alpha=0.0, mode="upweight", seed=0)
    idx = _epoch(u, 0)
    w = u.loss_weights(idx)
    assert w.mean() == pytest.approx(1.0)
    # each group's total weight is its share of the epoch
    for g in np.unique(topics):
        assert w[topics[idx] == g].sum() / len(idx) == pytest.approx(0.2)


def test_cooldown_and_linear_schedules():
    groups = np.array(["a"] * 90 + ["b"] * 10)
    c = GroupSampler(groups, alpha=0.2, schedule="cooldown", alpha_end=1.0, cooldown_fraction=0.25, num_epochs=8)
    assert [c.alpha_at(e) for e in range(8)] == pytest.approx([0.2] * 6 + [0.6, 1.0])
    b_share = [np.mean(groups[_epoch(c, e)] == "b") for e in range(8)]
    assert b_share[0] > 0.3 and b_share[-1] == pytest.approx(0.1)
    lin = GroupSampler(groups, alpha=0.0, schedule="linear", alpha_end=1.0, num_epochs=5)
    assert [lin.alpha_at(e) for e in range(5)] == pytest.approx([0, 0.25, 0.5, 0.75, 1.0])


def test_online_weights_move_toward_the_high_loss_group_and_are_logged(topics):
    s = GroupSampler(topics, online=True, learning_rate=0.5, smoothing=0.0, seed=0)
    names = s.names_
    hard = names.index("tech")
    it = iter(s)
    for _ in range(20):
        b = np.array([next(it) for _ in range(32)])
        loss = np.where(topics[b] == "tech", 2.0, 0.5)
        s.update(b, loss)
    hist = s.weight_history()
    assert hist.shape == (21, 5)
    assert np.allclose(hist.sum(axis=1), 1)
    assert hist[-1, hard] > hist[0, hard] + 0.3
    late = np.array([next(it) for _ in range(300)])
    assert np.mean(topics[late] == "tech") > 0.5


def test_online_with_reference_losses_uses_the_excess():
    groups = np.array(["a"] * 50 + ["b"] * 50)
    s = GroupSampler(groups, online=True, smoothing=0.0, reference_losses={"a": 1.5, "b": 0.0})
    s.update(np.arange(100), np.ones(100))
    assert s.shares()[1] > s.shares()[0]


def test_group_bad_inputs():
    groups = np.array(["a", "b", "a"])
    with pytest.raises(ValueError, match="unknown group"):
        GroupSampler(groups, weights={"a": 1.0, "zz": 2.0})
    with pytest.raises(ParamError, match="num_epochs"):
        GroupSampler(groups, schedule="cooldown")
    with pytest.raises(ParamError, match="mode"):
        GroupSampler(groups, online=True, mode="downsample")
    with pytest.raises(ValueError, match="online=True"):
        GroupSampler(groups).update([0], [1.0])
    with pytest.raises(ValueError, match="beyond num_epochs"):
        GroupSampler(groups, schedule="linear", num_epochs=2).set_epoch(2)
    with pytest.raises(ValueError, match="one group per example"):
        GroupSampler(np.zeros((2, 2)))
    with pytest.raises(ParamError, match="mode"):
        GroupSampler(groups, mode="oversample")


def test_explicit_weights(topics):
    s = GroupSampler(topics, weights={"sport": 3, "tech": 1}, num_samples=400, seed=1)
    got = topics[_epoch(s, 0)]
    assert set(got.tolist()) == {"sport", "tech"}
    assert np.sum(got == "sport") == 300


@pytest.mark.parametrize("pacing", ["linear", "quadratic", "root", "exponential", "logarithmic", "step"])
def test_pacing_functions_grow_from_start_to_one(pacing):
    vals = [pacing_fraction(pacing, t, 0.1) for t in np.linspace(0, 1, 11)]
    assert vals[0] == pytest.approx(0.1) and vals[-1] == pytest.approx(1.0)
    assert all(b >= a for a, b in zip(vals, vals[1:]))


def test_curriculum_easy_to_hard_by_a_real_score(bbc):
    lengths = np.array([len(t) for t in bbc.column("text").to_pylist()], dtype=float)
    s = CurriculumSampler(lengths, num_epochs=5, start=0.2, full_at=0.75, seed=0)
    first = _epoch(s, 0)
    assert len(first) == int(np.ceil(0.2 * len(lengths)))
    assert lengths[first].max() <= np.quantile(lengths, 0.21)
    sizes = [len(_epoch(s, e)) for e in range(5)]
    assert sizes == sorted(sizes) and sizes[-1] == len(lengths)
    d = CurriculumSampler(lengths, num_epochs=5, descending=True, epoch_size=100, seed=0)
    top = _epoch(d, 0)
    assert len(top) == 100 and lengths[top].min() >= np.quantile(lengths, 0.79)


def test_loss_window_slides_from_easy_to_hard():
    n = 100
    s = LossWindowSampler(n, 10, num_groups=5, window=2, seed=0)
    assert len(_epoch(s, 0)) == n
    s.update(np.arange(n), np.arange(n, dtype=float))   # loss = index: index 0 is the easiest
    windows = [sorted(_epoch(s, e).tolist()) for e in range(1, 6)]
    assert windows[0] == list(range(0, 40))
    assert windows[1] == list(range(20, 60))
    assert windows[3] == list(range(60, 100))
    assert windows[4] == list(range(0, 40))             # starts again from the easiest
    assert len(_epoch(s, 9)) == n                       # annealing
    with pytest.raises(ParamError, match="window"):
        LossWindowSampler(10, 3, num_groups=2, window=3)
