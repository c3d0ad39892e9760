"""Embedding-space selectors: the shared check suite on real text, plus their own invariants."""

import functools
import itertools

import numpy as np
import pytest

from datadiet.select import (
    AutoSelector,
    ClusterBalancedSelector,
    DiversifySelector,
    FacilityLocationSelector,
    HerdingSelector,
    KCenterSelector,
    PrototypeSelector,
)
from datadiet.select._facility import knn_similarity_graph, lazy_greedy_facility
from datadiet.select._kcenter import greedy_k_center
from datadiet.signals import HashedEncoder, Signals, get_encoder
from tests.checks import run_selector_checks


@pytest.fixture(scope="module")
def bbc_static(bbc):
    """BBC News (first 500 characters) embedded with the built-in hashed encoder (real text, no model needed)."""
    texts = [t[:500] for t in bbc.column("text").to_pylist()]
    vec = HashedEncoder(dim=64).fit([texts]).encode(texts)
    return Signals.from_arrays(bbc.column("id"), vectors=vec, groups=bbc.column("topic"),
                               scores={"length": np.asarray([len(t) for t in bbc.column("text").to_pylist()], float)})


CASES = {
    "cluster-balanced": (functools.partial(ClusterBalancedSelector, alpha=0.3), False),
    "cluster-balanced-repeats": (functools.partial(ClusterBalancedSelector, alpha=0.0, max_repeats=3), True),
    "diversify": (functools.partial(DiversifySelector, n_rounds=3), False),
    "diversify-score": (functools.partial(DiversifySelector, importance="score"), False),
    "prototypes-easy": (functools.partial(PrototypeSelector, keep="easy"), False),
    "prototypes-hard": (functools.partial(PrototypeSelector, keep="hard", n_clusters=20), False),
    "kcenter": (functools.partial(KCenterSelector, partition_size=800), False),
    "facility-location": (functools.partial(FacilityLocationSelector, partition_size=800, n_neighbors=10), False),
    "herding": (functools.partial(HerdingSelector, partition_size=800), False),
    "auto": (AutoSelector, False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_check_suite(name, bbc_static):
    make, repeats = CASES[name]
    run_selector_checks(make, bbc_static, budget=300, repeats=repeats)


@pytest.mark.parametrize("cls", [ClusterBalancedSelector, DiversifySelector, PrototypeSelector, KCenterSelector,
                                 FacilityLocationSelector, HerdingSelector, AutoSelector])
def test_needs_vectors_and_records_coverage(cls, bbc_static):
    with pytest.raises(ValueError, match="needs vectors"):
        cls(budget=10).fit(Signals.from_arrays(ids=np.arange(50)))
    sel = cls(budget=100, seed=1).fit(bbc_static)
    cov = sel.selection_.metrics["coverage"]
    assert 0 < cov["clusters_covered"] <= 1 and cov["mean_distance_to_selected"] > 0 and cov["diversity"] > 0
    assert "cluster" in sel.selection_.extra
    # coverage=False skips the distance search only: the same rows, the cluster counts still recorded
    off = cls(budget=100, seed=1, coverage=False).fit(bbc_static)
    np.testing.assert_array_equal(off.selected_indices_, sel.selected_indices_)
    left = off.selection_.metrics["coverage"]
    assert left["clusters_covered"] == cov["clusters_covered"] and "diversity" not in left
    assert "mean_distance_to_selected" not in left and "max_distance_to_selected" not in left


def test_bad_parameters(bbc_static):
    for make, err in [
        (lambda: ClusterBalancedSelector(budget=10, alpha=-1), "alpha"),
        (lambda: ClusterBalancedSelector(budget=10, max_repeats=0), "max_repeats"),
        (lambda: DiversifySelector(budget=10, importance="loss"), "importance"),
        (lambda: PrototypeSelector(budget=10, keep="medium"), "keep"),
        (lambda: KCenterSelector(budget=10, metric="dot"), "metric"),
        (lambda: FacilityLocationSelector(budget=10, n_neighbors=0), "n_neighbors"),
        (lambda: FacilityLocationSelector(budget=10, n_clusters=0), "n_clusters"),
        (lambda: AutoSelector(budget="5M-tokens"), "token budget"),
    ]:
        with pytest.raises((ValueError, TypeError), match=err):
            make().fit(Signals.from_arrays(bbc_static.ids, vectors=bbc_static.vectors,
                                           tokens=np.ones(len(bbc_static), np.int64)))
    no_scores = Signals.from_arrays(bbc_static.ids, vectors=bbc_static.vectors)
    with pytest.raises(ValueError, match="--score"):
        DiversifySelector(budget=10, importance="score").fit(no_scores)


def test_cluster_balanced_temperature_and_clip(bbc_static):
    counts = {}
    for alpha in (0.0, 1.0):
        sel = ClusterBalancedSelector(budget=400, alpha=alpha, n_clusters=8).fit(bbc_static)
        cl = sel.selection_.extra["cluster"]
        counts[alpha] = np.bincount(cl[sel.selected_indices_], minlength=8)
        sizes = np.bincount(cl, minlength=8)
    # alpha 0 makes clusters as equal as their sizes allow; alpha 1 follows the natural mix
    assert counts[0.0].std() < counts[1.0].std()
    np.testing.assert_allclose(counts[1.0], sizes * 400 / sizes.sum(), atol=1)
    up = ClusterBalancedSelector(budget=4000, alpha=0.0, max_repeats=2, n_clusters=8).fit(bbc_static)
    assert up.repeats_.max() <= 2 and up.repeats_.sum() == 4000
    with pytest.raises(ValueError, match="max_repeats"):
        ClusterBalancedSelector(budget=5000, max_repeats=2).fit(bbc_static)


def test_prototypes_easy_are_closer_than_hard(bbc_static):
    kw = {"budget": 200, "n_clusters": 10, "seed": 0}
    easy = PrototypeSelector(keep="easy", **kw).fit(bbc_static).selection_.metrics
    hard = PrototypeSelector(keep="hard", **kw).fit(bbc_static).selection_.metrics
    assert easy["keep"] == "easy" and hard["keep"] == "hard"
    # hard examples are spread out: they are more diverse than the prototypes
    assert hard["coverage"]["diversity"] > easy["coverage"]["diversity"]
    auto_small = PrototypeSelector(budget=100).fit(bbc_static).selection_.metrics["keep"]
    auto_large = PrototypeSelector(budget=1500).fit(bbc_static).selection_.metrics["keep"]
    assert (auto_small, auto_large) == ("easy", "hard")


def test_prototype_restarts_keep_the_lowest_inertia_clustering(bbc_static):
    from datadiet.index._kmeans import kmeans

    kw = {"budget": 12, "keep": "easy", "n_clusters": 12, "seed": 0}
    runs = {r: kmeans(bbc_static.vectors, 12, spherical=True, seed=0, ids=bbc_static.ids, restarts=r) for r in (1, 4)}
    for r, ref in runs.items():
        sel = PrototypeSelector(restarts=r, **kw).fit(bbc_static)
        assert np.array_equal(sel.selection_.extra["cluster"], ref.labels)
    assert runs[4].inertia < runs[1].inertia  # with this seed the first initialisation is not the best
    with pytest.raises(ValueError, match="restarts"):
        PrototypeSelector(restarts=0, **kw).fit(bbc_static)


def test_diversify_rounds_spread_the_budget(bbc_static):
    one = DiversifySelector(budget=300, n_clusters=15, size_power=2.0).fit(bbc_static)
    many = DiversifySelector(budget=300, n_clusters=15, size_power=2.0, n_rounds=5).fit(bbc_static)
    c1 = np.bincount(one.selection_.extra["cluster"][one.selected_indices_], minlength=15)
    c5 = np.bincount(many.selection_.extra["cluster"][many.selected_indices_], minlength=15)
    # more rounds discount what large clusters already got: the allocation changes and flattens
    assert not np.array_equal(c5, c1)
    assert c5.max() < c1.max()


def test_kcenter_and_facility_beat_random_on_their_objectives(bbc_static):
    from datadiet.select import RandomSelector

    rnd = RandomSelector(budget=100, seed=0).fit(bbc_static).selection_.metrics
    from datadiet.metrics import coverage_metrics

    base = coverage_metrics(bbc_static.vectors, RandomSelector(budget=100, seed=0).fit(bbc_static).selected_indices_)
    kc = KCenterSelector(budget=100, partition_size=5000).fit(bbc_static)
    fl = FacilityLocationSelector(budget=100, n_neighbors=30).fit(bbc_static)
    assert kc.selection_.metrics["coverage"]["max_distance_to_selected"] < base["max_distance_to_selected"]
    assert fl.selection_.metrics["coverage"]["mean_distance_to_selected"] < base["mean_distance_to_selected"]
    assert rnd is not None


def _radius(x, centres):
    d = np.sqrt(((x[:, None] - x[centres][None]) ** 2).sum(-1))
    return d.min(1).max()


@pytest.mark.parametrize("seed", range(8))
def test_k_center_radius_within_twice_optimum(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(11, 3)).astype(np.float32)
    k = 3
    opt = min(_radius(x, list(c)) for c in itertools.combinations(range(len(x)), k))
    centres, r = greedy_k_center(x, k, metric="l2", first=int(rng.integers(len(x))))
    assert np.isclose(r, _radius(x, centres), rtol=1e-5)
    assert r <= 2 * opt + 1e-6
    # and through the selector with one partition
    sel = KCenterSelector(budget=k, n_clusters=1, metric="l2", seed=seed).fit(vectors=x)
    assert _radius(x, sel.selected_indices_) <= 2 * opt + 1e-6


def _naive_facility(sim, k, tiebreak):
    n = sim.shape[1]
    cur = np.zeros(sim.shape[0])
    chosen = []
    for _ in range(k):
        gains = np.maximum(sim - cur[:, None], 0).sum(0)
        gains[chosen] = -np.inf
        best = max(range(n), key=lambda j: (gains[j], -tiebreak[j]))
        chosen.append(best)
        cur = np.maximum(cur, sim[:, best])
    return chosen, cur.sum()


@pytest.mark.parametrize("seed, n_neighbors", [(0, 4), (1, 8), (2, 39), (3, 2)])
def test_facility_lazy_greedy_equals_naive_greedy(seed, n_neighbors):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, 5)).astype(np.float32)
    tie = rng.random(40)
    for metric in ("cosine", "l2"):
        g = knn_similarity_graph(x, n_neighbors, metric)
        for k in (1, 5, 12):
            lazy, f_lazy = lazy_greedy_facility(g, k, tiebreak=tie)
            naive, f_naive = _naive_facility(g.toarray(), k, tie)
            assert np.isclose(f_lazy, f_naive, rtol=1e-12)
            assert lazy.tolist() == naive


def test_auto_rule_switches_with_budget(bbc_static):
    small = AutoSelector(budget=20).fit(bbc_static)
    large = AutoSelector(budget=500).fit(bbc_static)
    assert small.chosen_method_ == "prototypes" and large.chosen_method_ in ("stratified-random", "herding")
    assert small.selection_.metrics["auto"]["method"] == "prototypes"
    # above 2% no prototypes are tried: the floor against herding
    assert set(large.selection_.metrics["auto"]["check"]) == {"floor", "herding"}
    # one prototype per k-means cluster: every cluster covered
    assert small.selection_.metrics["coverage"]["clusters_covered"] == 1.0


def test_auto_with_groups_stratifies_exactly(bbc_static):
    sel = AutoSelector(budget=445, seed=2).fit(bbc_static)  # 20%: cluster-balanced inside each topic
    counts = np.bincount(bbc_static.groups[sel.selected_indices_], minlength=5)
    sizes = np.bincount(bbc_static.groups, minlength=5)
    np.testing.assert_allclose(counts, sizes * 0.2, atol=1)
    assert sel.selection_.metrics["auto"]["stratified_by_group"] is True
    plain = AutoSelector(budget=445, seed=2).fit(Signals.from_arrays(bbc_static.ids, vectors=bbc_static.vectors))
    assert plain.selection_.metrics["auto"]["stratified_by_group"] is False


# --- degenerate real data: repeated vectors, fewer distinct vectors than the budget, all-zero vectors (issue 10) ---
DEGENERATE = {
    "facility-location": functools.partial(FacilityLocationSelector, n_neighbors=10),
    "facility-location-l2": functools.partial(FacilityLocationSelector, n_neighbors=10, metric="l2"),
    "kcenter": KCenterSelector,
    "kcenter-l2": functools.partial(KCenterSelector, metric="l2"),
    "prototypes": PrototypeSelector,
    "prototypes-40": functools.partial(PrototypeSelector, n_clusters=40),
    "diversify": DiversifySelector,
    "cluster-balanced": ClusterBalancedSelector,
    "cluster-balanced-40": functools.partial(ClusterBalancedSelector, n_clusters=40),
    "herding": HerdingSelector,
    "herding-l2": functools.partial(HerdingSelector, metric="l2"),
    "auto": AutoSelector,
}


@pytest.fixture(scope="module")
def bbc_repeated(bbc_static):
    """20 real BBC articles (rows 20-39), each repeated 30 times (as scraped corpora repeat boilerplate), with unique ids."""
    vec = np.repeat(np.asarray(bbc_static.vectors[20:40]), 30, axis=0)
    return Signals.from_arrays([f"r{i}" for i in range(len(vec))], vectors=vec), np.repeat(np.arange(20), 30)


@pytest.mark.parametrize("name", list(DEGENERATE))
@pytest.mark.parametrize("budget", [10, 20, 50])
def test_repeated_vectors_fewer_distinct_than_budget(name, budget, bbc_repeated):
    sig, source_row = bbc_repeated
    sel = DEGENERATE[name](budget=budget, seed=0).fit(sig)
    idx = sel.selected_indices_
    assert len(idx) == budget and len(np.unique(idx)) == budget
    # as many different articles as the budget allows: never spend the budget on copies of one
    assert len(np.unique(source_row[idx])) == min(budget, 20)
    cov = sel.selection_.metrics["coverage"]
    assert all(np.isfinite(v) for v in cov.values() if isinstance(v, float))


@pytest.mark.parametrize("name", list(DEGENERATE))
def test_all_zero_vectors(name, rt):
    """Texts with no words (RT's null texts, punctuation-only lines) embed to zero vectors under ``hashed``."""
    texts = [t if t is not None else "" for t in rt.column("text").to_pylist()[:300]]
    vec = get_encoder("hashed:32").encode(["..." if i % 2 else "" for i in range(len(texts))])
    assert not vec.any()
    sig = Signals.from_arrays(rt.column("id").slice(0, 300), vectors=vec)
    sel = DEGENERATE[name](budget=25, seed=0).fit(sig)
    assert len(np.unique(sel.selected_indices_)) == 25


def test_facility_partitions_with_merge_step_stay_close_to_one_greedy(bbc_static):
    """Small partitions (each lowering its similarities by what earlier partitions' picks cover) lose
    little of the dense objective of one greedy over all rows."""
    x = np.asarray(bbc_static.vectors, dtype=np.float64)
    x /= np.linalg.norm(x, axis=1, keepdims=True)

    def dense(sel):
        return float(np.maximum(x @ x[sel].T, 0).max(axis=1).sum())

    one = FacilityLocationSelector(budget=150, n_neighbors=30, n_clusters=1).fit(bbc_static)
    parts = FacilityLocationSelector(budget=150, n_neighbors=30, partition_size=250).fit(bbc_static)
    assert parts.selection_.metrics["coverage"]["partitions"] >= 8
    assert dense(parts.selected_indices_) >= 0.985 * dense(one.selected_indices_)
    # the recorded objective counts every row's coverage once: never above the dense one
    assert parts.objective_ <= dense(parts.selected_indices_) + 1e-6
