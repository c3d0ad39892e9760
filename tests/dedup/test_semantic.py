"""Semantic dedup (SemDeDup) on real embeddings of BBC News, checked against brute-force cosine."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from datadiet.dedup import Dedup, SemanticDedup
from datadiet.dedup._base import _combine
from datadiet.signals import Signals

pytestmark = pytest.mark.slow  # loads and runs a real embedding model


@pytest.fixture(scope="module")
def bbc_vec(bbc):
    pytest.importorskip("model2vec", reason="pip install model2vec tokenlearn-static-model")
    from datadiet.signals import embed_source

    return np.asarray(embed_source(bbc, "text", "static", cache=False), dtype=np.float32)


def _brute_pairs(v, t):
    x = v / np.linalg.norm(v, axis=1, keepdims=True)
    s = x @ x.T
    i, j = np.nonzero(np.triu(s >= t, 1))
    return i, j


def test_semantic_against_brute_force(bbc, bbc_vec):
    sig = Signals.from_arrays(bbc.column("id"), vectors=bbc_vec)
    t = 0.995
    d = SemanticDedup(threshold=t, n_clusters=10, seed=0).fit(sig)
    i, j = _brute_pairs(bbc_vec, t)
    assert len(i) > 100  # exact duplicates (cosine 1) and close rewrites
    root = np.where(d.duplicate_of_ >= 0, d.duplicate_of_, np.arange(len(bbc)))
    recall = (root[i] == root[j]).mean()
    assert recall >= 0.9, recall
    # every link (dropped row, kept row it duplicates) really is above the threshold, with its cosine
    x = bbc_vec / np.linalg.norm(bbc_vec, axis=1, keepdims=True)
    a, b = d.pairs_.T
    assert np.array_equal(a, np.flatnonzero(d.duplicate_of_ >= 0)) and np.array_equal(b, d.duplicate_of_[a])
    cos = np.einsum("ij,ij->i", x[a], x[b])
    assert (cos >= t - 1e-5).all() and np.allclose(cos, d.similarities_, atol=1e-5)
    # the exact-duplicate articles (identical text -> identical vectors) are all caught
    texts = bbc.column("text").to_pylist()
    first = {}
    for k, s in enumerate(texts):
        if s in first:
            assert root[k] == root[first[s]]
        else:
            first[s] = k


def test_rethreshold_equals_a_fresh_fit(bbc, bbc_vec):
    sig = Signals.from_arrays(bbc.column("id"), vectors=bbc_vec)
    first = SemanticDedup(threshold=0.999, n_clusters=10, seed=0).fit(sig)
    before = first.selection_.kept.copy()
    for t in (0.999, 0.995, 0.99, 0.9):  # no pairs are stored, so no lower bound
        direct = SemanticDedup(threshold=t, n_clusters=10, seed=0).fit(sig).selection_
        again = first.rethreshold(t)
        assert np.array_equal(direct.kept, again.kept)
    assert first.rethreshold(0.99).n_kept < first.selection_.n_kept
    assert np.array_equal(first.selection_.kept, before)  # the fitted state is unchanged
    with pytest.raises(ValueError, match="call fit before rethreshold"):
        SemanticDedup().rethreshold(0.9)
    with pytest.warns(FutureWarning, match="search_threshold is deprecated and has no effect"):
        old = SemanticDedup(threshold=0.999, search_threshold=0.99, n_clusters=10, seed=0).fit(sig)
    assert np.array_equal(old.selection_.kept, first.selection_.kept)


def test_pipeline_with_vectors_and_cross_set(bbc, bbc_vec):
    sig = Signals.from_arrays(bbc.column("id"), text=bbc.column("text"), vectors=bbc_vec)
    d = Dedup(exact=True, near=0.8, semantic=0.995, seed=0).fit(sig)
    methods = set(d.selection_.extra["dup_method"].drop_null().to_pylist())
    assert methods == {"exact", "near", "semantic"}
    kept = d.selection_.kept
    dup = d.duplicate_of_
    assert kept[dup[dup >= 0]].all()  # every duplicate points at a kept row
    ev = Signals.from_arrays(pa.array(["e0", "e1"]), text=bbc.column("text").take([0, 1]),
                             vectors=bbc_vec[:2])
    c = SemanticDedup(threshold=0.995, n_clusters=10).fit(sig, against=ev)
    assert {0, 1} <= set(np.flatnonzero(~c.selection_.kept))
    assert set(c.overlaps_.column("eval_id").to_pylist()) == {"e0", "e1"}


def test_semantic_bad_input(bbc_vec):
    with pytest.raises(ValueError, match="needs vectors"):
        SemanticDedup().fit(text=["a", "b"])
    with pytest.raises(ValueError, match=r"threshold must be a number in \[-1, 1\]"):
        SemanticDedup(threshold=1.5).fit(vectors=bbc_vec[:10])
    with pytest.raises(ValueError, match=r"n_probe must be an integer.*'all'"):
        SemanticDedup(n_probe="some").fit(vectors=bbc_vec[:10])
    with pytest.raises(ValueError, match="NaN or infinite"):
        SemanticDedup().fit(vectors=np.full((4, 3), np.nan))
    holed = bbc_vec[:10].copy()
    holed[6, 2] = np.inf
    with pytest.raises(ValueError, match=r"NaN or infinite values \(id 6 is the first\)"):
        SemanticDedup().fit(vectors=holed)
    with pytest.raises(ValueError, match="dimensions"):
        SemanticDedup().fit(Signals.from_arrays(vectors=bbc_vec[:10]),
                            against=Signals.from_arrays(vectors=np.ones((2, 3))))


def test_greedy_linkage_never_chains(bbc, bbc_vec):
    sig = Signals.from_arrays(bbc.column("id"), vectors=bbc_vec)
    x = bbc_vec / np.linalg.norm(bbc_vec, axis=1, keepdims=True)
    t = 0.97
    greedy = SemanticDedup(threshold=t, n_clusters=5, n_probe="all", seed=0).fit(sig)
    comp = SemanticDedup(threshold=t, n_clusters=5, n_probe="all", seed=0, linkage="components").fit(sig)
    d = greedy.duplicate_of_
    dropped = np.flatnonzero(d >= 0)
    assert dropped.size > 0
    # each dropped row is itself above the threshold to the kept row it names
    assert (np.einsum("ij,ij->i", x[dropped], x[d[dropped]]) >= t - 1e-5).all()
    assert (d[d[dropped]] == -1).all()
    # components drop at least as many rows (they chain); greedy keeps every row no kept row covers
    assert comp.selection_.n_kept <= greedy.selection_.n_kept
    # no two kept rows are above the threshold (brute force over all pairs)
    i, j = _brute_pairs(bbc_vec, t)
    assert not ((d[i] < 0) & (d[j] < 0)).any()
    # components: exactly the connected components of every pair above the threshold
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(bbc_vec)
    lab = connected_components(coo_matrix((np.ones(i.size), (i, j)), shape=(n, n)), directed=False)[1]
    first = np.full(lab.max() + 1, n)
    np.minimum.at(first, lab, np.arange(n))
    assert np.array_equal(comp.selection_.kept, first[lab] == np.arange(n))
    with pytest.raises(ValueError, match="linkage must be one of"):
        SemanticDedup(linkage="single").fit(sig)


def _reference_dropped(v, t, rank):
    """The exact greedy keep: every brute-force pair, rows visited in ``rank`` order."""
    from datadiet.dedup._semantic import greedy_links

    i, j = _brute_pairs(v, t)
    return np.sort(greedy_links(i, j, rank)[0])


@pytest.mark.parametrize("keep", ["first", "random", "longest"])
def test_exact_search_equals_the_brute_force_greedy(bbc, bbc_vec, keep):
    sig = Signals.from_arrays(bbc.column("id"), vectors=bbc_vec, text=bbc.column("text"))
    t = 0.97
    d = SemanticDedup(threshold=t, n_probe="all", keep=keep, seed=3).fit(sig)
    rank = d._rank(_combine(sig, None), d.seed_)
    ref = _reference_dropped(bbc_vec, t, rank)
    assert ref.size > 150
    assert np.array_equal(np.flatnonzero(d.duplicate_of_ >= 0), ref)
    # the kept row each dropped row names is the best-ranked kept row above the threshold, as in greedy_links
    from datadiet.dedup._semantic import greedy_links

    i, j = _brute_pairs(bbc_vec, t)
    drop, to = greedy_links(i, j, rank)
    assert np.array_equal(d.duplicate_of_[drop], to)


def test_more_probes_agree_more_with_the_exact_greedy(bbc, bbc_vec):
    sig = Signals.from_arrays(bbc.column("id"), vectors=bbc_vec)
    t = 0.93  # low enough for many pairs near cell boundaries (a weak 64-d model)
    ref = set(_reference_dropped(bbc_vec, t, np.arange(len(bbc_vec))).tolist())

    def f1(n_probe):
        got = set(np.flatnonzero(SemanticDedup(threshold=t, n_clusters=200, n_probe=n_probe, seed=0)
                                 .fit(sig).duplicate_of_ >= 0).tolist())
        both = len(got & ref)
        return 2 * both / (len(got) + len(ref))

    one, default, every = f1(1), f1(SemanticDedup().n_probe), f1("all")
    assert every == 1.0
    assert one < default <= every
    assert default >= 0.995, default


def test_batches_do_not_change_the_result(bbc, bbc_vec):
    """Within-batch pairs are resolved in keep order: any batch size gives the sequential greedy."""
    from datadiet.dedup._stream import ivf_index, stream_greedy

    x = bbc_vec / np.linalg.norm(bbc_vec, axis=1, keepdims=True)
    order = np.argsort(np.random.default_rng(0).random(len(x)))
    prot = np.zeros(len(x), bool)
    prot[order[::50]] = True  # protected rows (an evaluation set) are never dropped
    results = [stream_greedy(x, order, prot, 0.97, ivf_index(x[:1], 1), batch=b) for b in (1, 7, 300, 5000)]
    for r in results[1:]:
        assert np.array_equal(r.dropped, results[0].dropped) and np.array_equal(r.link, results[0].link)
    assert not prot[results[0].dropped].any() and results[0].dropped.size > 150


def test_identical_rows_follow_the_first_and_zero_rows_are_not_alike():
    from datadiet.dedup._stream import identical_groups

    v = np.array([[1, 2], [0, 0], [1, 2], [0, 0], [3, 1], [1, 2.001]], dtype=np.float32)
    reps, rep_of = identical_groups(v, np.array([4, 2, 1, 0, 3, 5]))
    assert reps.tolist() == [4, 2, 1, 3, 5] and rep_of.tolist() == [2, 1, 2, 3, 4, 5]
    d = SemanticDedup(threshold=0.999, n_clusters=1).fit(vectors=v)
    assert d.duplicate_of_.tolist() == [-1, -1, 0, -1, -1, 0]  # the two zero rows are kept


def test_memory_does_not_grow_with_the_duplicate_pairs():
    """50,000 rows that are all within 0.999 of each other: 1.25 billion pairs, never held."""
    import tracemalloc

    rng = np.random.default_rng(0)
    v = (np.ones((50_000, 16)) + rng.normal(0, 0.005, (50_000, 16))).astype(np.float32)
    tracemalloc.start()
    d = SemanticDedup(threshold=0.999, seed=0).fit(vectors=v)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert d.selection_.n_kept < 100
    assert peak < 40e6, peak  # the vectors (3 MB), a few arrays of n and one batch's pairs


# --- issue 10, item 8: measure random-pair cosines before deduplicating --------------------------------------
def test_threshold_inside_random_pair_distribution_warns(bbc, bbc_vec):
    from datadiet.dedup._semantic import SemanticThresholdWarning, random_pair_cosines

    sig = Signals.from_arrays(bbc.column("id"), vectors=bbc_vec)
    x = bbc_vec / np.linalg.norm(bbc_vec, axis=1, keepdims=True)
    cos = random_pair_cosines(x, bbc.column("id"), seed=0)
    assert cos.size > 15000 and -1 <= cos.min() and cos.max() <= 1
    # the measurement is of real random pairs: brute force over all pairs has the same median
    s = (x @ x.T)[np.triu_indices(len(x), 1)]
    assert abs(np.median(cos) - np.median(s)) < 0.02
    inside = float(np.quantile(cos, 0.99))  # 1% of random pairs above it: "duplicates" by chance
    with pytest.warns(SemanticThresholdWarning, match=r"inside the cosine distribution of random pairs.*raise it"):
        d = SemanticDedup(threshold=inside, n_clusters=10).fit(sig)
    m = d.selection_.metrics
    assert 0.005 < m["semantic_random_pairs_above_threshold"] < 0.02
    assert "inside the cosine distribution" in m["semantic_warning"]
    # above every random pair: no warning, and the pairs nearest the threshold are listed for the report
    import warnings

    safe = min(float(cos.max()) + 0.002, 0.999)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SemanticThresholdWarning)
        d = SemanticDedup(threshold=safe, n_clusters=10).fit(sig)
    near = d.selection_.metrics["semantic_near_threshold"]
    assert near and all(p["cosine"] >= safe - 1e-4 for p in near)
    assert [p["cosine"] for p in near] == sorted(p["cosine"] for p in near)
    assert "semantic_warning" not in d.selection_.metrics


def test_evaluation_rows_are_kept_even_when_alike():
    """Cross-set mode: evaluation rows are never dropped, even when they duplicate each other."""
    v = np.array([[1, 0], [0.99999, 0.001], [1, 0.0005], [0, 1]], dtype=np.float32)
    train = Signals.from_arrays(pa.array(["t0", "t1"]), vectors=v[2:])
    ev = Signals.from_arrays(pa.array(["e0", "e1"]), vectors=v[:2])
    d = SemanticDedup(threshold=0.999, n_clusters=1).fit(train, against=ev)
    assert d.selection_.kept.tolist() == [False, True]
    assert d.overlaps_.column("eval_id").to_pylist() == ["e0"]
    only = SemanticDedup(threshold=0.999, n_clusters=1, within=False).fit(train, against=ev)
    assert only.selection_.kept.tolist() == [False, True]
