"""Batch composers: every row once per epoch, exact resume, distributed split, and each one's promise."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from datadiet._core import DataError
from datadiet.negatives import HardNegativeMiner, NGAMEComposer, NoDuplicatesComposer, TASBComposer


def _make(kind: str, n: int, bs: int, seed: int = 0, **kw):
    rng = np.random.default_rng(seed)
    if kind == "tas-b":
        x = rng.normal(size=(n, 4))
        return TASBComposer(batch_size=bs, seed=seed, n_clusters=max(1, min(n, 3)), **kw).fit(
            x, margins=rng.random(n))
    if kind == "no-duplicates":
        return NoDuplicatesComposer(batch_size=bs, seed=seed, **kw).fit([rng.integers(0, max(2, n // 3), n)])
    return NGAMEComposer(batch_size=bs, seed=seed, **kw).fit(np.arange(n) % max(1, n // 2),
                                                             rng.integers(-1, max(1, n // 2), (n, 3)))


KINDS = ["tas-b", "no-duplicates", "ngame"]


@pytest.mark.parametrize("kind", KINDS)
@given(n=st.integers(1, 200), bs=st.integers(1, 40), replicas=st.integers(1, 4), epoch=st.integers(0, 3))
def test_every_row_exactly_once_per_epoch_across_replicas(kind, n, bs, replicas, epoch):
    seen = []
    lengths = []
    for rank in range(replicas):
        c = _make(kind, n, bs, num_replicas=replicas, rank=rank)
        c.set_epoch(epoch)
        batches = list(c)
        assert len(batches) == len(c)
        assert all(1 <= len(b) <= bs for b in batches)
        assert all(isinstance(i, int) for b in batches for i in b)
        lengths.append(len(batches))
        seen.extend(i for b in batches for i in b)
    assert sorted(seen) == list(range(n))
    assert max(lengths) - min(lengths) <= 1


@pytest.mark.parametrize("kind", KINDS)
def test_drop_last_gives_full_batches_and_equal_replicas(kind):
    lens = []
    for rank in range(3):
        c = _make(kind, 500, 16, num_replicas=3, rank=rank, drop_last=True)
        bs = list(c)
        assert all(len(b) == 16 for b in bs)
        lens.append(len(bs))
    assert len(set(lens)) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_resume_gives_the_same_sequence(kind):
    full = _make(kind, 300, 16, seed=5)
    full.set_epoch(2)
    expect = list(full)
    part = _make(kind, 300, 16, seed=5)
    part.set_epoch(2)
    it = iter(part)
    head = [next(it) for _ in range(7)]
    state = part.state_dict()
    fresh = _make(kind, 300, 16, seed=5)
    fresh.load_state_dict(state)
    fresh.set_epoch(2)  # a training loop calls set_epoch again after resuming: must not restart
    assert head + list(fresh) == expect
    # the next pass starts the epoch again from its first batch
    assert list(fresh) == expect


@pytest.mark.parametrize("kind", KINDS)
def test_epochs_and_seeds_change_the_composition(kind):
    c = _make(kind, 300, 16, seed=1)
    e0 = list(c)
    c.set_epoch(1)
    assert list(c) != e0
    assert list(_make(kind, 300, 16, seed=1)) == e0
    with pytest.raises(DataError):
        _make(kind, 300, 16, seed=1).load_state_dict({**c.state_dict(), "rows": 7})


def test_no_duplicates_never_puts_a_value_twice_in_a_batch(bbc_col):
    # real data: the topics as the "positive" (5 values -> at most 5 rows a batch) and exact-duplicate bodies
    from datadiet._testing.corpora import bbc_news

    t = bbc_news()
    topics = t.column("topic").to_pylist()
    bodies = bbc_col["corpus"].column("text").to_pylist()
    c = NoDuplicatesComposer(batch_size=4, seed=0).fit([topics, bodies])
    rows = []
    for b in c:
        assert len({topics[i] for i in b}) == len(b)
        assert len({bodies[i] for i in b}) == len(b)
        rows.extend(b)
    assert sorted(rows) == list(range(len(topics)))
    full = sum(len(b) == 4 for b in c)
    assert full >= len(topics) // 4 - 5  # nearly every batch is full


def test_no_duplicates_is_linear_on_a_large_input():
    import time

    n = 200_000
    vals = np.random.default_rng(0).integers(0, n // 2, n)
    t0 = time.perf_counter()
    c = NoDuplicatesComposer(batch_size=64).fit([vals])
    batches = list(c)
    assert time.perf_counter() - t0 < 60
    assert sum(len(b) for b in batches) == n


def test_tasb_batches_come_from_one_cluster(bbc_vectors):
    qv = bbc_vectors[0]
    c = TASBComposer(batch_size=16, n_clusters=20, seed=0).fit(qv)
    batches = list(c)
    single = [len(set(c.clusters_[b])) == 1 for b in batches]
    # only the pooled leftovers (at most one partial batch per cluster in total) can mix clusters
    assert sum(not s for s in single) <= 20 * 15 // 16 + 1
    assert np.mean(single) > 0.85


def test_tasb_spreads_margins_over_the_batch():
    rng = np.random.default_rng(0)
    x = np.tile(rng.normal(size=(1, 8)), (640, 1)) + 0.01 * rng.normal(size=(640, 8))
    margins = rng.random(640)
    c = TASBComposer(batch_size=32, n_clusters=1, margin_bins=4).fit(x, margins=margins)
    for b in c:
        counts = np.bincount(c.bins_[b], minlength=4)
        assert counts.min() >= 6  # 8 of each bin expected; never one-sided


def test_ngame_puts_linked_rows_together(bbc_data):
    q = np.unique(bbc_data["q"])
    m = HardNegativeMiner(num_negatives=3).fit(bbc_data["qv"], bbc_data["dv"], (q, q))
    c = NGAMEComposer(batch_size=32).fit(m.positive_, m.negatives_)
    assert c.n_links_ > 0

    def together(batches):
        where = np.empty(len(m.positive_), np.int64)
        for i, b in enumerate(batches):
            where[b] = i
        pos_row = {p: r for r, p in enumerate(m.positive_)}
        pairs = [(r, pos_row[n]) for r, row in enumerate(m.negatives_) for n in row if n in pos_row]
        return np.mean([where[a] == where[b] for a, b in pairs])

    rng = np.random.default_rng(0)
    perm = rng.permutation(len(m.positive_))
    random_batches = [perm[i:i + 32] for i in range(0, len(perm), 32)]
    assert together(list(c)) > 5 * together(random_batches)


def test_works_as_a_torch_batch_sampler():
    torch = pytest.importorskip("torch")
    c = _make("no-duplicates", 100, 8)
    ds = torch.utils.data.TensorDataset(torch.arange(100))
    loader = torch.utils.data.DataLoader(ds, batch_sampler=c)
    got = sorted(int(v) for (b,) in loader for v in b)
    assert got == list(range(100)) and len(loader) == len(c)


def test_not_fitted_and_bad_params():
    with pytest.raises(DataError, match="not fitted"):
        list(NoDuplicatesComposer())
    with pytest.raises(DataError, match="rank"):
        NoDuplicatesComposer(num_replicas=2, rank=2).fit([[1, 2]])
    with pytest.raises(DataError, match="no rows"):
        NoDuplicatesComposer().fit([[]])


def test_import_does_not_load_torch():
    code = "import sys, datadiet.negatives; assert 'torch' not in sys.modules and 'sklearn' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
