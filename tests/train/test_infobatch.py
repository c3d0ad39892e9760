"""InfoBatch: pruning rule, unbiased rescaling, exact budget, class floor, real saved share, LR schedules."""

from __future__ import annotations

import numpy as np
import pytest

from datadiet._core import ParamError
from datadiet.train import InfoBatchSampler

LOSSES = np.array([0.1, 0.2, 0.1, 0.3, 2.0, 2.5, 3.0, 0.2, 0.05, 1.5])


def _epoch(s, e):
    s.set_epoch(e)
    return np.array(list(s))


def test_never_prunes_an_example_at_or_above_the_mean():
    rng = np.random.default_rng(0)
    loss = rng.exponential(size=500)
    for seed in range(5):
        s = InfoBatchSampler(500, 10, prune_ratio=0.7, seed=seed)
        s.update(np.arange(500), loss)
        kept = set(_epoch(s, 1).tolist())
        above = np.flatnonzero(loss >= loss.mean())
        assert set(above.tolist()) <= kept
        below = np.flatnonzero(loss < loss.mean())
        assert len(set(below.tolist()) - kept) == round(0.7 * len(below))


def test_weights_make_the_weighted_loss_unbiased():
    # exact part: the kept well-learned weights add up to the number of well-learned examples
    s = InfoBatchSampler(10, 4, prune_ratio=0.5, seed=0)
    s.update(np.arange(10), LOSSES)
    kept = _epoch(s, 1)
    low = LOSSES < LOSSES.mean()
    w = s.weights(np.arange(10))
    assert w[low].sum() == pytest.approx(low.sum())
    assert (w[~low] == 1).all()
    assert (w[np.setdiff1d(np.arange(10), kept)] == 0).all()
    # expectation over seeds: E[sum_kept w * loss] = sum(loss); each subset is equally likely
    est = []
    for seed in range(3000):
        s = InfoBatchSampler(10, 4, prune_ratio=0.5, seed=seed)
        s.update(np.arange(10), LOSSES)
        k = _epoch(s, 1)
        est.append((s.weights(k) * LOSSES[k]).sum())
    assert np.mean(est) == pytest.approx(LOSSES.sum(), rel=0.01)
    # and the kept share of each well-learned example is the nominal one
    assert np.std(est) > 0


def test_first_and_annealing_epochs_see_everything():
    s = InfoBatchSampler(10, 8, delta=0.75, seed=0)
    assert sorted(_epoch(s, 0)) == list(range(10))
    s.update(np.arange(10), LOSSES)
    assert s.stop_epoch_ == 6
    assert len(_epoch(s, 5)) < 10
    assert sorted(_epoch(s, 6)) == list(range(10))
    assert (s.weights(np.arange(10)) == 1).all()


def test_real_saved_share_is_reported_and_smaller_than_nominal():
    rng = np.random.default_rng(1)
    loss = rng.exponential(size=400)
    s = InfoBatchSampler(400, 8, prune_ratio=0.5, seed=0)
    passes = 0
    for e in range(8):
        idx = _epoch(s, e)
        passes += len(idx)
        s.update(idx, loss[idx])
    assert s.saved_fraction() == pytest.approx(1 - passes / (400 * 8))
    assert 0 < s.saved_fraction() < 0.5


@pytest.mark.parametrize("budget", [0.6, 0.8, 2500])
def test_exact_budget_and_lengths_announced_in_advance(budget):
    n, epochs = 400, 8
    s = InfoBatchSampler(n, epochs, budget=budget, seed=0)
    planned = s.epoch_lengths()
    want = int(round(budget * n * epochs)) if budget <= 1 else budget
    assert planned.sum() == want
    rng = np.random.default_rng(2)
    loss = rng.exponential(size=n)
    got = []
    for e in range(epochs):
        idx = _epoch(s, e)
        got.append(len(idx))
        s.update(idx, loss[idx] * (1 + 0.1 * e))
    assert got == planned.tolist()
    assert s.saved_fraction() == pytest.approx(1 - want / (n * epochs))


def test_budget_beyond_what_pruning_epochs_allow_is_refused():
    with pytest.raises(ParamError, match="budget"):
        InfoBatchSampler(100, 4, budget=0.1)
    with pytest.raises(ParamError, match="budget"):
        InfoBatchSampler(100, 4, budget=1000.5)


def test_class_floor_keeps_each_class_above_its_floor():
    n = 300
    labels = np.repeat([0, 1, 2], 100)
    loss = np.where(labels == 2, 0.01, 1.0) + np.linspace(0, 0.001, n)  # class 2 is all "well learned"
    s = InfoBatchSampler(n, 6, prune_ratio=0.9, labels=labels, class_floor=0.5, seed=0)
    s.update(np.arange(n), loss)
    kept = _epoch(s, 1)
    counts = np.bincount(labels[kept], minlength=3)
    assert counts[2] >= 50
    free = InfoBatchSampler(n, 6, prune_ratio=0.9, seed=0)
    free.update(np.arange(n), loss)
    assert np.bincount(labels[_epoch(free, 1)], minlength=3)[2] < 50
    # the rescale of class 2 is its real kept share
    w = s.weights(kept)
    assert w[labels[kept] == 2].sum() == pytest.approx(100)


def test_step_based_lr_schedule_ends_exactly_at_the_last_step():
    torch = pytest.importorskip("torch")
    from datadiet.train import torch_batch_sampler

    n, epochs, bs = 200, 6, 16
    s = InfoBatchSampler(n, epochs, budget=0.7, seed=0)
    total = s.total_steps(bs)
    ds = torch.utils.data.TensorDataset(torch.arange(n))
    bsamp = torch_batch_sampler(s, bs)
    dl = torch.utils.data.DataLoader(ds, batch_sampler=bsamp)
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    steps = 0
    rng = np.random.default_rng(0)
    loss_of = torch.from_numpy(rng.exponential(size=n))
    for e in range(epochs):
        bsamp.set_epoch(e)
        for (idx,) in dl:
            s.update(idx, loss_of[idx])
            opt.step()
            sched.step()
            steps += 1
    assert steps == total
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_bad_inputs_are_clear():
    s = InfoBatchSampler(10, 3)
    with pytest.raises(ValueError, match="one value per index"):
        s.update(np.arange(4), np.zeros(3))
    with pytest.raises(ValueError, match="reduction='none'"):
        s.update(np.arange(4), 0.5)
    with pytest.raises(ValueError, match=r"in \[0, 10\)"):
        s.update(np.array([3, 11]), np.zeros(2))
    with pytest.raises(ValueError, match="finite"):
        s.update(np.array([1]), np.array([np.nan]))
    with pytest.raises(ValueError, match="beyond num_epochs=3"):
        s.set_epoch(3)
    with pytest.raises(ValueError, match="budget"):
        s.epoch_lengths()
    with pytest.raises(ParamError, match="labels"):
        InfoBatchSampler(10, 3, class_floor=0.5)
    with pytest.raises(ValueError, match="one value per example"):
        InfoBatchSampler(10, 3, class_floor=0.5, labels=[0, 1])
    with pytest.raises(ParamError, match="prune_ratio"):
        InfoBatchSampler(10, 3, prune_ratio=1.0)


def test_iterating_past_the_last_epoch_is_refused():
    s = InfoBatchSampler(5, 2)
    list(s)
    list(s)
    with pytest.raises(ValueError, match="beyond num_epochs"):
        list(s)
