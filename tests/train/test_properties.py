"""Property tests (hypothesis) of the samplers' invariants."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from datadiet.train import GroupSampler, InfoBatchSampler, RS2Sampler


@given(n=st.integers(1, 300), fraction=st.floats(0.01, 1.0), seed=st.integers(0, 2**31),
       replicas=st.integers(1, 4))
def test_rs2_every_index_once_before_any_repeat(n, fraction, seed, replicas):
    m = int(round(fraction * n))
    if m - m % replicas < 1:
        return
    shards = [RS2Sampler(n, fraction, seed=seed, num_replicas=replicas, rank=r) for r in range(replicas)]
    rounds = -(-n // shards[0].round_size_) + 1
    stream: list[int] = []
    for e in range(rounds):
        got = []
        for s in shards:
            s.set_epoch(e)
            got.append(list(s))
        assert len({len(g) for g in got}) == 1
        flat = [i for g in got for i in g]
        assert len(set(flat)) == len(flat)          # no round holds an index twice
        assert not set(got[0]).intersection(*got[1:]) if replicas > 1 else True
        stream += [i for g in got for i in g]
    size = shards[0].round_size_ * rounds
    assert len(stream) == size
    whole = (len(stream) // n) * n
    counts = np.bincount(stream, minlength=n)
    # after c full cycles every index appeared c or c + 1 times (the partial cycle adds at most one)
    assert counts.min() >= whole // n and counts.max() <= whole // n + 1


@given(losses=st.lists(st.floats(0, 10, allow_nan=False), min_size=2, max_size=200),
       ratio=st.floats(0, 0.95), seed=st.integers(0, 2**31))
def test_infobatch_prunes_only_below_mean_and_rescales_exactly(losses, ratio, seed):
    loss = np.asarray(losses)
    n = len(loss)
    s = InfoBatchSampler(n, 4, prune_ratio=ratio, seed=seed)
    s.update(np.arange(n), loss)
    s.set_epoch(1)
    kept = np.array(list(s), dtype=np.int64)
    assert len(set(kept.tolist())) == len(kept)
    low = loss < loss.mean()
    assert set(np.flatnonzero(~low).tolist()) <= set(kept.tolist())
    w = s.weights(np.arange(n))
    if (w[low] > 0).any():
        assert np.isclose(w[low].sum(), low.sum())
    assert round(s.saved_fraction() * n) == round(ratio * low.sum())   # exactly round(r * well-learned)


@given(sizes=st.lists(st.integers(1, 60), min_size=1, max_size=6), alpha=st.floats(0, 2),
       num_samples=st.integers(1, 400), seed=st.integers(0, 2**31))
def test_group_upsample_counts_follow_the_shares(sizes, alpha, num_samples, seed):
    groups = np.repeat(np.arange(len(sizes)), sizes)
    s = GroupSampler(groups, alpha=alpha, num_samples=num_samples, seed=seed)
    got = np.bincount(groups[list(s)], minlength=len(sizes))
    assert got.sum() == num_samples
    assert np.abs(got - s.shares() * num_samples).max() < 1 + 1e-9
