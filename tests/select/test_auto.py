"""``auto`` (issue 14): a stratified random floor; prototypes at tiny budgets only where a check says they help."""

import numpy as np
import pytest

from datadiet._core._hashing import uniform_keys
from datadiet.index import kmeans
from datadiet.select import AutoSelector, RandomSelector
from datadiet.select._auto import (
    STABILITY_AT_LEAST,
    auto_candidates,
    auto_rule,
    prototype_restarts,
    typicality,
)
from datadiet.select._clusterability import adjusted_rand, cluster_stability
from datadiet.select._linear_probe import fit_softmax, probe_check
from datadiet.signals import HashedEncoder, Signals


@pytest.fixture(scope="module")
def bbc_hashed(bbc):
    """BBC News (first 500 characters, 5 topics) embedded with the built-in hashed encoder."""
    texts = [t[:500] for t in bbc.column("text").to_pylist()]
    vec = HashedEncoder(dim=64).fit([texts]).encode(texts)
    return Signals.from_arrays(bbc.column("id"), vectors=vec, groups=bbc.column("topic"))


@pytest.fixture(scope="module")
def fashion_pixels():
    """3,000 Fashion-MNIST test images, pixels / 255 (image features: strongly clustered)."""
    from datadiet._testing import fashion_mnist

    x, y = fashion_mnist("test")
    return x[:3000] / 255.0, y[:3000]


def test_label_free_on_a_continuum_is_random_trimmed_from_one_percent():
    # synthetic on purpose: a Gaussian cloud has no clusters, so k-means restarts disagree
    x = np.random.default_rng(0).normal(size=(3000, 16))
    sig = Signals.from_arrays(np.arange(3000), vectors=x)
    sel = AutoSelector(budget=3, seed=3, metric="l2").fit(sig)  # 0.1%: exactly random
    info = sel.selection_.metrics["auto"]
    assert sel.chosen_method_ == info["method"] == "random" and "no clear clusters" in info["why"]
    assert info["clusterability"]["stability"] < STABILITY_AT_LEAST and info["seconds"] >= 0
    assert sel.selected_indices_.tolist() == RandomSelector(budget=3, seed=3).fit(sig).selected_indices_.tolist()
    typ = typicality(x, "l2")
    low, high = np.quantile(typ, [0.05, 0.75])
    pool = np.flatnonzero((typ >= low) & (typ <= high))
    k = uniform_keys(np.arange(3000), 3)  # the keys random uses
    for budget in (30, 900):  # 1%, 30%: random among the rows left after trimming
        sel = AutoSelector(budget=budget, seed=3, metric="l2").fit(sig)
        assert sel.chosen_method_ == sel.selection_.metrics["auto"]["method"] == "trimmed-random"
        # the same rows random would pick if the pool were the whole input: smallest (seed, id) keys in it
        assert sorted(sel.selected_indices_.tolist()) == sorted(pool[np.argsort(k[pool])[:budget]].tolist())
    # a budget above the pool: all of it, then set-aside rows
    big = AutoSelector(budget=2500, seed=3, metric="l2").fit(sig).selected_indices_
    assert set(pool.tolist()) <= set(big.tolist()) and len(big) == 2500


def test_typicality_is_similarity_to_the_mean(bbc_hashed):
    x = np.asarray(bbc_hashed.vectors, dtype=np.float64)
    u = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    m = u.mean(0) / np.linalg.norm(u.mean(0))
    np.testing.assert_allclose(typicality(x, "cosine", block=100), u @ m, atol=1e-9)
    np.testing.assert_allclose(typicality(x, "l2", block=100), -np.linalg.norm(x - x.mean(0), axis=1), atol=1e-9)


def test_label_free_floor_on_clusters_is_cluster_stratified_random(fashion_pixels):
    x, _ = fashion_pixels
    sig = Signals.from_arrays(np.arange(len(x)), vectors=x)
    budget = 150  # 5%
    sel = AutoSelector(budget=budget, seed=3, metric="l2").fit(sig)
    info = sel.selection_.metrics["auto"]
    assert sel.chosen_method_ == info["method"] == "stratified-random" and "budget >= 2%" in info["why"]
    assert info["clusterability"]["stability"] >= STABILITY_AT_LEAST and info["stratified_by_group"] is False
    cluster = np.asarray(sel.selection_.extra["cluster"])
    sizes = np.bincount(cluster)
    kept = np.bincount(cluster[sel.selected_indices_], minlength=len(sizes))
    assert len(sel.selected_indices_) == budget
    # proportional allocation: every cluster gets its share of the budget, rounded
    assert np.all(np.abs(kept - sizes * budget / len(sig)) < 1)
    # random within a cluster: another seed draws other rows
    other = AutoSelector(budget=budget, seed=4, metric="l2").fit(sig).selected_indices_
    assert set(other.tolist()) != set(sel.selected_indices_.tolist())


def test_label_free_tiny_budget_on_clustered_images_uses_prototypes(fashion_pixels):
    x, _ = fashion_pixels
    sig = Signals.from_arrays(np.arange(len(x)), vectors=x)
    sel = AutoSelector(budget=30, seed=1, metric="l2").fit(sig)
    info = sel.selection_.metrics["auto"]
    assert info["clusterability"]["stability"] >= STABILITY_AT_LEAST
    assert sel.chosen_method_ == info["method"] == "prototypes" and "(clusters), budget < 2%" in info["why"]
    assert len(sel.selected_indices_) == 30
    # one prototype per k-means cluster: every cluster covered
    assert sel.selection_.metrics["coverage"]["clusters_covered"] == 1.0
    # at 2% and above the floor
    assert AutoSelector(budget=60, seed=1, metric="l2").fit(sig).chosen_method_ == "stratified-random"


def test_label_free_prototypes_come_from_the_lowest_inertia_restart(fashion_pixels):
    x, _ = fashion_pixels
    sig = Signals.from_arrays(np.arange(len(x)), vectors=x)
    picked = sorted(AutoSelector(budget=30, seed=1, metric="l2").fit(sig).selected_indices_.tolist())
    restarts = prototype_restarts(len(x), 30, x.shape[1], 50)
    assert restarts > 1  # 3,000 x 784 is cheap enough to restart
    for r, same in ((restarts, True), (1, False)):
        res = kmeans(x, 30, seed=1, niter=50, max_train=128 * 30, ids=sig.ids, restarts=r)
        nearest = [int(np.flatnonzero(res.labels == c)[np.argmin(res.distances[res.labels == c])]) for c in range(30)]
        assert (sorted(nearest) == picked) is same


def test_cluster_stability_separates_clusters_from_a_continuum(fashion_pixels):
    x, _ = fashion_pixels
    cloud = np.random.default_rng(1).normal(size=(2000, 16))
    s_img = cluster_stability(x, np.arange(len(x)), "l2", 0)
    s_cloud = cluster_stability(cloud, np.arange(len(cloud)), "l2", 0)
    assert s_img["stability"] > STABILITY_AT_LEAST > s_cloud["stability"]
    assert s_img["ks"] == [5, 10, 20] and s_img["rows"] == 3000
    # the sample is chosen by id, so row order does not matter
    perm = np.random.default_rng(2).permutation(len(x))
    assert cluster_stability(x[perm], perm, "l2", 0)["stability"] == pytest.approx(s_img["stability"], abs=1e-6)
    # too few rows to compare clusterings: 0.0, the floor
    assert cluster_stability(cloud[:40], np.arange(40), "l2", 0)["stability"] == 0.0


def test_adjusted_rand_matches_its_definition():
    a = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    assert adjusted_rand(a, 5 - a) == 1.0  # same partition, other names
    b = np.array([0, 0, 1, 1, 2, 2, 0, 1])
    # brute force over pairs: Rand index, and its expectation under random labelings of the same sizes
    i, j = np.triu_indices(len(a), 1)
    same_a, same_b = a[i] == a[j], b[i] == b[j]
    n_pairs = len(i)
    expected = same_a.sum() * same_b.sum() / n_pairs
    ari = ((same_a & same_b).sum() - expected) / ((same_a.sum() + same_b.sum()) / 2 - expected)
    assert adjusted_rand(a, b) == pytest.approx(ari)


def test_with_labels_the_check_chooses_and_keeps_label_shares(bbc_hashed):
    n = len(bbc_hashed)
    sizes = np.bincount(bbc_hashed.groups)
    for budget in (10, 25, 200):  # 0.4%, 1.1%: prototypes and herding; 9%: herding only
        sel = AutoSelector(budget=budget, seed=1).fit(bbc_hashed)
        info = sel.selection_.metrics["auto"]
        check = info["check"]
        assert info["stratified_by_group"] is True
        assert set(check) == ({"floor", "prototypes-1", "prototypes-3", "herding"} if budget < 0.02 * n
                              else {"floor", "herding"})
        best = max(check, key=lambda k: (check[k], k == "floor"))  # ties keep the floor
        rule = info["method"] + (f"-{info['params']['rows_per_cluster']}" if info["method"] == "prototypes" else "")
        rule = "floor" if rule == "stratified-random" else rule
        assert rule == best and "check" in info["why"]
        assert sel.chosen_method_ == info["method"]
        kept = np.bincount(bbc_hashed.groups[sel.selected_indices_], minlength=len(sizes))
        assert np.all(np.abs(kept - sizes * budget / n) < 1)  # every topic proportionally, whichever rule won


def test_herding_candidate_skipped_when_too_costly(bbc_hashed, monkeypatch):
    import datadiet.select._auto as auto

    monkeypatch.setattr(auto, "HERDING_MAX_WORK", 1e3)
    info = AutoSelector(budget=200, seed=1).fit(bbc_hashed).selection_.metrics["auto"]
    assert set(info["check"]) == {"floor"} and info["method"] == "stratified-random"
    assert "multiply-adds" in info["skipped"]["herding"]


def test_herding_partitions_shrink_to_fit_the_cost_cap(bbc_hashed, monkeypatch):
    import datadiet.select._auto as auto
    from datadiet.select._herding import herding_work

    n, dim, budget = len(bbc_hashed), bbc_hashed.vectors.shape[1], 200
    sizes = np.bincount(bbc_hashed.groups)
    monkeypatch.setattr(auto, "HERDING_MIN_PARTITION", 100)
    monkeypatch.setattr(auto, "HERDING_MAX_WORK", 1.5 * (n + budget) * dim * 150)
    sel = AutoSelector(budget=budget, seed=1).fit(bbc_hashed)
    info = sel.selection_.metrics["auto"]
    assert info["herding_partition_size"] == 150 and "herding" in info["check"] and "skipped" not in info
    quota = np.round(sizes * budget / n)
    assert herding_work(sizes, quota, dim, 150) <= auto.HERDING_MAX_WORK < herding_work(sizes, quota, dim)
    assert info["method"] == "herding"  # every topic of 386-511 rows was herded in partitions of about 150
    assert len(np.unique(sel.selection_.extra["cluster"])) == sum(max(1, round(s / 150)) for s in sizes)


def test_linear_probe_equals_scikit_learn_and_scores_the_unpicked_rows(bbc_hashed):
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(bbc_hashed.vectors, dtype=np.float64)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    y = bbc_hashed.groups
    picked = np.flatnonzero(np.arange(len(x)) % 10 == 0)
    w, b, classes = fit_softmax(x[picked], y[picked])
    ours = classes[(x @ w + b).argmax(1)]
    theirs = LogisticRegression(max_iter=1000).fit(x[picked], y[picked]).predict(x)
    assert np.mean(ours == theirs) > 0.995
    rest = np.setdiff1d(np.arange(len(x)), picked)
    keys = np.arange(len(x), dtype=float)
    assert probe_check(x, y, picked, keys, "cosine") == pytest.approx(np.mean(ours[rest] == y[rest]))
    one_class = np.flatnonzero(y == 0)[:5]  # a single class predicts that class for every row
    rest = np.setdiff1d(np.arange(len(x)), one_class)
    assert probe_check(x, y, one_class, keys, "l2") == pytest.approx(np.mean(y[rest] == 0))
    # held-out rows given: only they are scored (here the rows of class 0 that were not picked)
    held = np.setdiff1d(np.flatnonzero(y == 0), one_class)
    assert probe_check(x, y, one_class, keys, "l2", held) == 1.0
    rest = np.setdiff1d(np.arange(len(x)), picked)
    assert probe_check(x, y, picked, keys, "cosine", rest[y[rest] == 1]) == pytest.approx(np.mean(ours[rest][y[rest] == 1] == 1))


def test_rule_table():
    assert auto_rule(0.5, grouped=True)[0] == auto_rule(0.03, stability=0.9)[0] == "stratified-random"
    assert auto_rule(0.001)[0] == auto_rule(0.0099, stability=STABILITY_AT_LEAST - 0.01)[0] == "random"
    assert auto_rule(0.01)[0] == auto_rule(0.5, stability=STABILITY_AT_LEAST - 0.01)[0] == "trimmed-random"
    assert auto_rule(0.001, stability=STABILITY_AT_LEAST)[0] == "prototypes"
    assert auto_rule(0.019, grouped=True)[0] == "prototypes"
    assert auto_candidates(0.019, grouped=False) == [] and len(auto_candidates(0.019, grouped=True)) == 3
