"""Semantic dedup (SemDeDup) on real embeddings of BBC News, checked against brute-force cosine."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from datadiet.dedup import Dedup, SemanticDedup
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
    # every linked pair really is above the threshold
    x = bbc_vec / np.linalg.norm(bbc_vec, axis=1, keepdims=True)
    a, b = d.pairs_.T
    assert (np.einsum("ij,ij->i", x[a], x[b]) >= t - 1e-5).all()
    # the exact-duplicate articles (identical text -> identical vectors) are all caught
    texts = bbc.column("text").to_pylist()
    first = {}
    for k, s in enumerate(texts):
        if s in first:
            assert root[k] == root[first[s]]
        else:
            first[s] = k


def test_rethreshold_reuses_the_search(bbc, bbc_vec):
    sig = Signals.from_arrays(bbc.column("id"), vectors=bbc_vec)
    low = SemanticDedup(threshold=0.999, search_threshold=0.99, n_clusters=10, seed=0).fit(sig)
    for t in (0.999, 0.995, 0.99):
        direct = SemanticDedup(threshold=t, n_clusters=10, seed=0).fit(sig).selection_
        again = low.rethreshold(t)
        assert np.array_equal(direct.kept, again.kept)
    assert low.rethreshold(0.99).n_kept < low.selection_.n_kept
    with pytest.raises(ValueError, match="below the search threshold"):
        low.rethreshold(0.9)


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
    with pytest.raises(ValueError, match="search_threshold"):
        SemanticDedup(threshold=0.9, search_threshold=0.95).fit(vectors=bbc_vec[:10])
    with pytest.raises(ValueError, match="dimensions"):
        SemanticDedup().fit(Signals.from_arrays(vectors=bbc_vec[:10]),
                            against=Signals.from_arrays(vectors=np.ones((2, 3))))


def test_greedy_linkage_never_chains(bbc, bbc_vec):
    sig = Signals.from_arrays(bbc.column("id"), vectors=bbc_vec)
    x = bbc_vec / np.linalg.norm(bbc_vec, axis=1, keepdims=True)
    t = 0.97
    greedy = SemanticDedup(threshold=t, n_clusters=5, seed=0).fit(sig)
    comp = SemanticDedup(threshold=t, n_clusters=5, seed=0, linkage="components").fit(sig)
    d = greedy.duplicate_of_
    dropped = np.flatnonzero(d >= 0)
    assert dropped.size > 0
    # each dropped row is itself above the threshold to the kept row it names
    assert (np.einsum("ij,ij->i", x[dropped], x[d[dropped]]) >= t - 1e-5).all()
    assert (d[d[dropped]] == -1).all()
    # components drop at least as many rows (they chain); greedy keeps every row no kept row covers
    assert comp.selection_.n_kept <= greedy.selection_.n_kept
    # no two kept rows of a searched pair are above the threshold (similarity recomputed from the vectors)
    a, b = greedy.pairs_.T
    both_kept = (d[a] < 0) & (d[b] < 0) & (np.einsum("ij,ij->i", x[a], x[b]) >= t)
    assert not both_kept.any()
    with pytest.raises(ValueError, match="linkage must be one of"):
        SemanticDedup(linkage="single").fit(sig)


def test_second_probe_finds_pairs_split_by_clusters(bbc, bbc_vec):
    sig = Signals.from_arrays(bbc.column("id"), vectors=bbc_vec)
    t = 0.97
    i, j = _brute_pairs(bbc_vec, t)
    one = SemanticDedup(threshold=t, n_clusters=40, n_probe=1, seed=0).fit(sig)
    two = SemanticDedup(threshold=t, n_clusters=40, n_probe=2, seed=0).fit(sig)
    truth = set(zip(i.tolist(), j.tolist()))
    found1 = set(map(tuple, one.pairs_.tolist()))
    found2 = set(map(tuple, two.pairs_.tolist()))
    assert found1 <= found2 <= truth  # never a false pair; the second probe only adds
    assert len(found2) > len(found1)
    assert len(found2) / len(truth) > len(found1) / len(truth)


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
