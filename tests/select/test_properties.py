"""Property tests (hypothesis) for the invariants of the foundation selectors."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import assume, given
from hypothesis import strategies as st

from datadiet import Columns, GroupBalanceSelector, RandomSelector, SoftCapSampler, load_signals

group_sizes = st.lists(st.integers(1, 60), min_size=1, max_size=6)


def _groups(sizes):
    return np.repeat([f"g{i}" for i in range(len(sizes))], sizes)


@given(group_sizes, st.floats(0, 1), st.integers(1, 400), st.sampled_from(["downsample", "upsample", "upweight"]),
       st.integers(0, 10))
def test_balance_meets_budget_and_caps(sizes, alpha, budget, mode, seed):
    n = sum(sizes)
    g = _groups(sizes)
    if mode == "downsample":
        budget = min(budget, n)
    sel = GroupBalanceSelector(budget=budget, alpha=alpha, mode=mode, max_repeats=None, seed=seed).fit(groups=g)
    s = sel.selection_
    if mode == "upweight":
        assert np.isclose(s.weight.sum(), budget)
        assert (s.repeats[s.kept] == 1).all()
    else:
        assert s.repeats.sum() == budget
    per = s.metrics["groups"]
    for name, size in zip(sorted(set(g)), [sizes[int(k[1:])] for k in sorted(set(g))]):
        assert per[name]["kept"] <= size
        # shares follow n_g^alpha up to rounding and capping: never above the real-valued share + 1
        assert per[name]["repeats"] <= per[name]["target_share"] + 1 + 1e-9
    if mode == "upsample":
        # repeat counts within a group differ by at most one
        for code in range(len(sizes)):
            r = s.repeats[g == f"g{code}"]
            assert r.max() - r.min() <= 1


@given(group_sizes, st.integers(1, 5), st.integers(0, 5))
def test_upsample_repetition_cap(sizes, cap, seed):
    g = _groups(sizes)
    budget = max(1, int(sum(sizes) * 0.8))
    sel = GroupBalanceSelector(budget=budget, alpha=0.0, mode="upsample", max_repeats=cap, seed=seed,
                               allow_all=True).fit(groups=g)
    assert sel.selection_.repeats.max() <= cap


@given(st.dictionaries(st.sampled_from(["g0", "g1", "g2"]), st.integers(0, 20), min_size=1), st.integers(0, 3))
def test_quotas_respected(quotas, seed):
    g = _groups([30, 30, 30])
    budget = sum(quotas.values()) + (10 if len(quotas) < 3 else 0)
    assume(budget > 0)
    sel = GroupBalanceSelector(budget=budget, quotas=quotas, seed=seed).fit(groups=g)
    per = sel.selection_.metrics["groups"]
    for name, q in quotas.items():
        assert per[name]["kept"] == q
    assert sel.selection_.repeats.sum() == budget


@given(st.permutations(list(range(40))), st.integers(0, 100))
def test_id_keyed_determinism_under_permutation(perm, seed):
    ids = np.array([f"doc-{i}" for i in range(40)])
    groups = np.array(["a", "b", "c", "d"])[np.arange(40) % 4]
    base = GroupBalanceSelector(budget=12, alpha=0.0, seed=seed).fit(ids=ids, groups=groups)
    perm = np.array(perm)
    other = GroupBalanceSelector(budget=12, alpha=0.0, seed=seed).fit(ids=ids[perm], groups=groups[perm])
    assert set(ids[base.selected_indices_]) == set(ids[perm][other.selected_indices_])
    r1 = RandomSelector(budget=9, seed=seed).fit(ids=ids)
    r2 = RandomSelector(budget=9, seed=seed).fit(ids=ids[perm])
    assert set(ids[r1.selected_indices_]) == set(ids[perm][r2.selected_indices_])
    s1 = SoftCapSampler(budget=60, max_repeats=3, seed=seed).fit(ids=ids, scores=np.arange(40.0) + 1)
    s2 = SoftCapSampler(budget=60, max_repeats=3, seed=seed).fit(ids=ids[perm], scores=(np.arange(40.0) + 1)[perm])
    assert dict(zip(ids, s1.selection_.repeats)) == dict(zip(ids[perm], s2.selection_.repeats))


@given(n_shards=st.integers(1, 6), seed=st.integers(0, 50))
def test_determinism_under_resharding(n_shards, seed, tmp_path_factory):
    from datadiet._testing import bbc_news

    t = bbc_news().slice(0, 240).select(["id", "topic"])
    d = tmp_path_factory.mktemp("shards")
    perm = np.random.default_rng(seed).permutation(t.num_rows)
    shuffled = t.take(pa.array(perm))
    for i, part in enumerate(np.array_split(np.arange(t.num_rows), n_shards)):
        pq.write_table(shuffled.take(pa.array(part)), d / f"s{i}.parquet")
    cols = Columns(id="id", group="topic")
    a = GroupBalanceSelector(budget=50, alpha=0.3, seed=seed).fit(load_signals(t, cols)).selection_
    b = GroupBalanceSelector(budget=50, alpha=0.3, seed=seed).fit(load_signals(d, cols, batch_size=17)).selection_
    kept_a = set(np.asarray(a.ids.to_pylist())[a.kept])
    kept_b = set(np.asarray(b.ids.to_pylist())[b.kept])
    assert kept_a == kept_b
