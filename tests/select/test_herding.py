"""Kernel herding (issue 14): its sample matches the data's kernel mean better than random, per group and partition."""

import numpy as np
import pytest

from datadiet.select import HerdingSelector, RandomSelector
from datadiet.select._herding import herd_features, kernel_herding, median_distance, random_features
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


def test_herd_features_is_the_naive_greedy_and_copies_fill_last(bbc_hashed):
    x = unit(bbc_hashed.vectors[:400]).astype(np.float32)
    phi = random_features(x, 0.5 * median_distance(x, 0), 256, 7)
    counts = np.random.default_rng(0).integers(1, 4, len(phi))  # row i stands for counts[i] copies
    mean = (counts @ phi.astype(np.float64)) / counts.sum()
    naive, total = [], np.zeros(phi.shape[1])
    for t in range(25):  # the row whose addition brings the picked features' mean nearest the data's
        gap = [np.inf if i in naive else float(((mean - (total + phi[i]) / (t + 1)) ** 2).sum())
               for i in range(len(phi))]
        naive.append(int(np.argmin(gap)))
        total += phi[naive[-1]]
    assert herd_features(phi, counts, 25).tolist() == naive
    # three distinct rows repeated: each is a candidate once, copies fill the rest
    copies = np.repeat(x[:3], 4, axis=0)
    got = kernel_herding(copies, 5, seed=0)
    assert len(np.unique(got)) == 5 and len({copies[i].tobytes() for i in got[:3]}) == 3
