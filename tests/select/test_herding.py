"""Kernel herding (issue 14): its sample matches the data's kernel mean better than random, per group and partition."""

import numpy as np
import pytest

from datadiet.select import HerdingSelector, RandomSelector
from datadiet.select._herding import herd_kernel, kernel_herding, median_distance
from datadiet.signals import HashedEncoder, Signals


@pytest.fixture(scope="module")
def bbc_hashed(bbc):
    texts = [t[:500] for t in bbc.column("text").to_pylist()]
    vec = HashedEncoder(dim=64).fit([texts]).encode(texts)
    return Signals.from_arrays(bbc.column("id"), vectors=vec, groups=bbc.column("topic"))


def mmd(x: np.ndarray, picked: np.ndarray, width: float) -> float:
    """Exact squared maximum mean discrepancy between ``x`` and ``x[picked]`` under a Gaussian kernel."""
    def k(a, b):
        d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2 * a @ b.T
        return np.exp(-np.maximum(d2, 0) / (2 * width ** 2))
    s = x[picked]
    return float(k(x, x).mean() - 2 * k(x, s).mean() + k(s, s).mean())


def unit(x):
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def test_herding_matches_the_kernel_mean_better_than_random(bbc_hashed):
    x = unit(bbc_hashed.vectors)
    width = 0.5 * median_distance(x, 0)
    plain = Signals.from_arrays(bbc_hashed.ids, vectors=bbc_hashed.vectors)
    herd = [mmd(x, HerdingSelector(budget=40, seed=s).fit(plain).selected_indices_, width) for s in range(3)]
    rand = [mmd(x, RandomSelector(budget=40, seed=s).fit(plain).selected_indices_, width) for s in range(10)]
    # every herding sample beats the best of ten random samples of the same size
    assert max(herd) < min(rand)


def test_groups_get_proportional_shares_and_partitions_split_large_groups(bbc_hashed):
    n = len(bbc_hashed)
    sizes = np.bincount(bbc_hashed.groups)
    sel = HerdingSelector(budget=90, seed=1, partition_size=150).fit(bbc_hashed)
    kept = np.bincount(bbc_hashed.groups[sel.selected_indices_], minlength=len(sizes))
    assert np.all(np.abs(kept - sizes * 90 / n) < 1)
    part = np.asarray(sel.selection_.extra["cluster"])
    # every topic is cut into round(size / 150) partitions, numbered across topics
    assert sel.selection_.metrics["coverage"]["partitions"] == sum(max(1, round(s / 150)) for s in sizes) == len(np.unique(part))
    for g in range(len(sizes)):
        assert len(np.unique(part[bbc_hashed.groups == g])) == max(1, round(sizes[g] / 150))
    again = HerdingSelector(budget=90, seed=1, partition_size=150).fit(bbc_hashed).selected_indices_
    other = HerdingSelector(budget=90, seed=2, partition_size=150).fit(bbc_hashed).selected_indices_
    assert again.tolist() == sel.selected_indices_.tolist() and other.tolist() != again.tolist()


def test_herd_kernel_is_the_naive_greedy_mmd_and_copies_fill_last(bbc_hashed):
    x = unit(bbc_hashed.vectors[:300])
    width = 0.5 * median_distance(x, 0)
    counts = np.random.default_rng(0).integers(1, 4, len(x))  # row i stands for counts[i] copies
    gram = np.exp(-np.maximum((x * x).sum(1)[:, None] + (x * x).sum(1)[None] - 2 * x @ x.T, 0) / (2 * width ** 2))
    target = gram @ counts / counts.sum()
    naive: list[int] = []
    for _ in range(20):  # the row whose addition gives the picks the smallest squared MMD to the weighted data
        def mmd2(s):
            return gram[np.ix_(s, s)].mean() - 2 * target[s].mean()
        naive.append(min((i for i in range(len(x)) if i not in naive), key=lambda i: mmd2(naive + [i])))
    assert herd_kernel(x.astype(np.float32), counts, 20, width).tolist() == naive
    # three distinct rows repeated: each is a candidate once, copies fill the rest
    copies = np.repeat(x[:3], 4, axis=0)
    got = kernel_herding(copies, 5, seed=0)
    assert len(np.unique(got)) == 5 and len({copies[i].tobytes() for i in got[:3]}) == 3


def test_stochastic_greedy_is_seeded_and_still_matches_the_kernel_mean(bbc_hashed):
    x = unit(bbc_hashed.vectors).astype(np.float32)
    width = 0.5 * median_distance(x, 0)
    ones = np.ones(len(x))
    first, again, other = (herd_kernel(x, ones, 40, width, seed=s) for s in (1, 1, 2))
    assert first.tolist() == again.tolist() and first.tolist() != other.tolist()
    assert len(set(first.tolist())) == 40
    rng = np.random.default_rng(0)
    rand = [mmd(x, rng.choice(len(x), 40, replace=False), width) for _ in range(10)]
    assert max(mmd(x, first, width), mmd(x, other, width)) < min(rand)
