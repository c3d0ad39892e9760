"""HardNegativeMiner on the BBC title -> body collection (real data) and on synthetic properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from datadiet._core import DataError, ParamError
from datadiet.dedup._normalize import normalize_text
from datadiet.negatives import HardNegativeMiner

from .conftest import positives_of

STRATS = ["top", "random", "simans", "mixed"]


def _fit(data, **kw):
    return HardNegativeMiner(**kw).fit(data["qv"], data["dv"], (data["q"], data["d"]), query_ids=data["qids"],
                                       doc_ids=data["dids"], doc_texts=data["texts"])


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("strategy", STRATS)
def test_never_a_known_positive_or_a_duplicate_of_one(bbc_data, strategy):
    # qrels of each query's own body only: identical bodies elsewhere are unlabelled positives
    q = np.unique(bbc_data["q"])
    data = {**bbc_data, "q": q, "d": q}
    m = _fit(data, strategy=strategy, num_negatives=5, near_duplicate=0.98)
    norm = normalize_text(bbc_data["texts"]).to_pylist()
    pos = positives_of(m.query_, m.positive_)
    dv = _unit(bbc_data["dv"])
    assert (m.negatives_ >= 0).sum() > 0.9 * m.negatives_.size
    for row, qr in enumerate(m.query_):
        for n in m.negatives_[row][m.negatives_[row] >= 0]:
            assert n not in pos[qr]
            assert all(norm[n] != norm[p] for p in pos[qr])
            assert all(float(dv[n] @ dv[p]) < 0.98 for p in pos[qr])
    assert m.removed_["known_positive"] > 0
    assert m.removed_["duplicate_text"] > 0  # the corpus has identical articles


def test_duplicate_guard_off_lets_duplicates_through(bbc_data):
    q = np.unique(bbc_data["q"])
    data = {**bbc_data, "q": q, "d": q}
    m = _fit(data, num_negatives=5, duplicate_text=False)
    norm = normalize_text(bbc_data["texts"]).to_pylist()
    dup = sum(norm[n] == norm[p] for row, p in enumerate(m.positive_) for n in m.negatives_[row] if n >= 0)
    assert dup > 0 and m.removed_["duplicate_text"] == 0


def test_a_document_with_the_query_own_text_is_never_a_negative(bbc_data):
    """Given query texts, the duplicate-text guard drops documents whose text is the query's (as sentence-transformers)."""
    qv, dv, qt = bbc_data["qv"], bbc_data["dv"], bbc_data["qtexts"].to_pylist()
    some = np.unique(bbc_data["q"])[:50]
    texts = bbc_data["texts"].to_pylist() + [qt[i].upper() + " !" for i in some]  # the same normalised text
    dv2 = np.vstack([dv, qv[some]])  # and the query's own vector: the hardest candidate there is
    own = {int(q): len(dv) + j for j, q in enumerate(some)}
    qrels = (bbc_data["q"], bbc_data["d"])
    without = HardNegativeMiner(num_negatives=3).fit(qv, dv2, qrels, doc_texts=texts)
    assert sum(own.get(int(q), -1) in row for q, row in zip(without.query_, without.negatives_, strict=True)) >= 50
    m = HardNegativeMiner(num_negatives=3).fit(qv, dv2, qrels, doc_texts=texts, query_texts=qt)
    assert not any(own.get(int(q), -1) in row for q, row in zip(m.query_, m.negatives_, strict=True))
    assert (m.negatives_ >= 0).all()
    assert m.removed_["duplicate_text"] >= without.removed_["duplicate_text"] + 50


def test_a_null_text_reads_as_empty_like_the_cli(bbc_data):
    """A null text is "" (the CLI reads retrieval files so): for the duplicate-text guard and a cross-encoder."""
    qv, dv, qrels = bbc_data["qv"], bbc_data["dv"], (bbc_data["q"], bbc_data["d"])
    texts = bbc_data["texts"].to_pylist()
    blank = set(np.unique(bbc_data["d"][:60]).tolist())  # the positives of the first queries have no text
    others = set(np.random.default_rng(0).choice(len(texts), len(texts) // 5, replace=False).tolist())  # a fifth
    as_null = [None if i in blank else t for i, t in enumerate(texts)]
    as_empty = ["" if i in blank or i in others else t for i, t in enumerate(texts)]
    mixed = [None if i in blank else t for i, t in enumerate(as_empty)]  # null positives, "" documents
    ref = HardNegativeMiner(num_negatives=3).fit(qv, dv, qrels, doc_texts=as_empty)
    got = HardNegativeMiner(num_negatives=3).fit(qv, dv, qrels, doc_texts=mixed)
    np.testing.assert_array_equal(got.negatives_, ref.negatives_)
    assert got.removed_ == ref.removed_
    base = HardNegativeMiner(num_negatives=3).fit(qv, dv, qrels, doc_texts=as_null)
    assert ref.removed_["duplicate_text"] > base.removed_["duplicate_text"]  # the "" documents were caught

    class Recorder:  # a scorer of the user's own: the pairs it is given, scored by shared words
        pairs: list = []

        def predict(self, pairs):
            self.pairs += pairs
            return np.array([len(set(a.split()) & set(b.split())) for a, b in pairs], dtype=np.float32)

    rec = Recorder()
    q = np.unique(bbc_data["q"])[:8]
    HardNegativeMiner(num_negatives=2, range_max=6, cross_encoder=rec, duplicate_text=False).fit(
        qv, dv, (q, q), query_texts=[None] * len(qv), doc_texts=as_null)
    assert rec.pairs and all(a == "" for a, _ in rec.pairs)
    assert not any(b == "None" for _, b in rec.pairs) and any(b == "" for _, b in rec.pairs)


@pytest.mark.parametrize("strategy", STRATS)
def test_margins_and_score_window_hold_for_every_negative(bbc_data, strategy):
    kw = dict(absolute_margin=0.02, relative_margin=0.05, max_score=0.6, min_score=0.1)
    m = _fit(bbc_data, strategy=strategy, num_negatives=4, **kw)
    lowest = {}
    for qr, s in zip(m.query_, m.positive_scores_):
        lowest[qr] = min(lowest.get(qr, np.inf), s)
    low = np.array([lowest[qr] for qr in m.query_])[:, None]
    ok = m.negatives_ >= 0
    s = np.where(ok, m.negative_scores_, np.nan)
    assert ok.sum() > 0
    assert not (s[ok] + 0.02 > np.broadcast_to(low, s.shape)[ok] + 1e-6).any()
    assert not (s[ok] > (low - np.abs(low) * 0.05)[:, [0] * s.shape[1]][ok] + 1e-6).any()
    assert s[ok].max() <= 0.6 + 1e-6 and s[ok].min() >= 0.1 - 1e-6
    assert m.removed_["absolute_margin"] > 0 and m.removed_["max_score"] + m.removed_["min_score"] > 0


def test_rank_window_matches_a_brute_force_ranking(bbc_data):
    m = _fit(bbc_data, num_negatives=3, range_min=5, range_max=40, duplicate_text=False)
    qv, dv = _unit(bbc_data["qv"]), _unit(bbc_data["dv"])
    pos = positives_of(bbc_data["q"], bbc_data["d"])
    for row in range(0, len(m.query_), 97):
        qr = m.query_[row]
        s = dv @ qv[qr]
        ranked = [j for j in np.argsort(-s, kind="stable") if j not in pos[qr]]
        expect_scores = s[ranked[5:8]]
        np.testing.assert_allclose(np.sort(m.negative_scores_[row])[::-1], expect_scores, atol=1e-5)


def test_guide_model_veto(bbc_data, bbc_col):
    from datadiet.signals import get_encoder

    enc = get_encoder("hashed:256")
    gq = enc.encode(bbc_col["queries"].column("text").to_pylist())
    gd = enc.encode(bbc_col["corpus"].column("text").to_pylist())
    m = HardNegativeMiner(num_negatives=5).fit(bbc_data["qv"], bbc_data["dv"], (bbc_data["q"], bbc_data["d"]),
                                               doc_texts=bbc_data["texts"], guide=(gq, gd))
    gq, gd = _unit(gq), _unit(gd)
    assert m.removed_["guide_veto"] > 0
    lowest = {}
    for qr, p in zip(m.query_, m.positive_):
        lowest[qr] = min(lowest.get(qr, np.inf), float(gd[p] @ gq[qr]))
    for row, qr in enumerate(m.query_):
        for n in m.negatives_[row][m.negatives_[row] >= 0]:
            assert float(gd[n] @ gq[qr]) < lowest[qr] + 1e-6


def test_simans_samples_follow_the_formula(bbc_data):
    """With k = 1 the draw is exactly p(d) ~ exp(-a (s - s+ - b)^2) over the window: chi-square on window ranks."""
    from scipy import stats

    a, b, width = 30.0, -0.1, 10
    base = dict(range_max=width, duplicate_text=False)
    window = _fit(bbc_data, num_negatives=width, strategy="top", **base)
    counts = np.zeros(width)
    expected = np.zeros(width)
    full = (window.negatives_ >= 0).all(axis=1)
    for seed in range(4):
        m = _fit(bbc_data, num_negatives=1, strategy="simans", simans_a=a, simans_b=b, seed=seed, **base)
        assert (m.query_ == window.query_).all()
        for row in np.nonzero(full)[0]:
            s = window.negative_scores_[row].astype(np.float64)
            w = np.exp(-a * (s - m.positive_scores_[row] - b) ** 2)
            expected += w / w.sum()
            counts[list(window.negatives_[row]).index(m.negatives_[row, 0])] += 1
    chi2, pval = stats.chisquare(counts, expected * counts.sum() / expected.sum())
    assert pval > 1e-3, (counts, expected)
    # and it is not uniform: the formula puts visibly more mass on some ranks
    assert stats.chisquare(counts).pvalue < 1e-6


def test_simans_estimates_a_and_b_when_not_given(bbc_data):
    m = _fit(bbc_data, strategy="simans", num_negatives=3)
    assert m.summary_["simans"]["a"] > 0 and np.isfinite(m.summary_["simans"]["b"])
    assert m.simans_a_ == m.summary_["simans"]["a"]


@pytest.mark.parametrize("strategy", STRATS)
def test_deterministic_under_seed_and_corpus_row_order(bbc_data, strategy):
    def mined(data, seed):
        m = _fit(data, strategy=strategy, num_negatives=4, seed=seed)
        qid, did = data["qids"].to_pylist(), data["dids"].to_pylist()
        return {(qid[a], did[b]): [did[n] for n in row if n >= 0]
                for a, b, row in zip(m.query_, m.positive_, m.negatives_)}

    first = mined(bbc_data, 7)
    assert mined(bbc_data, 7) == first
    perm = np.random.default_rng(1).permutation(len(bbc_data["dv"]))
    inv = np.argsort(perm)
    shuffled = {**bbc_data, "dv": bbc_data["dv"][perm], "dids": bbc_data["dids"].take(perm),
                "texts": bbc_data["texts"].take(perm), "d": inv[bbc_data["d"]]}
    assert mined(shuffled, 7) == first
    if strategy != "top":
        assert mined(bbc_data, 8) != first


def test_mixed_takes_the_top_share_first(bbc_data):
    top = _fit(bbc_data, num_negatives=4, strategy="top", range_max=40)
    mix = _fit(bbc_data, num_negatives=4, strategy="mixed", hard_ratio=0.5, range_max=40)
    for row in range(0, len(top.query_), 50):
        assert set(top.negatives_[row, :2]) <= set(mix.negatives_[row])


def test_matches_sentence_transformers_top(bbc_data):
    """Same vectors, same window and margin: the same negatives as sentence-transformers' miner."""
    pytest.importorskip("datasets")
    st_util = pytest.importorskip("sentence_transformers.util")
    import hashlib
    import logging

    from datasets import Dataset
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import StaticEmbedding

    from datadiet.signals._encoders import resolve_model

    logging.disable(logging.WARNING)
    texts = bbc_data["texts"].to_pylist()
    qtexts = bbc_data["qtexts"].to_pylist()
    # one positive per query, distinct query and corpus texts (sentence-transformers merges identical ones)
    keep_docs = sorted({t: i for i, t in reversed(list(enumerate(texts)))}.values())
    doc_pos = {i: j for j, i in enumerate(keep_docs)}
    seen, q_rows = set(), []
    for a, b in zip(bbc_data["q"], bbc_data["d"]):
        if qtexts[a] not in seen and b in doc_pos:
            seen.add(qtexts[a])
            q_rows.append((a, doc_pos[b]))
    q_idx = np.array([a for a, _ in q_rows])
    qv, dv = _unit(bbc_data["qv"][q_idx]), _unit(bbc_data["dv"][keep_docs])
    docs = [texts[i] for i in keep_docs]
    queries = [qtexts[a] for a in q_idx]
    positives = [docs[b] for _, b in q_rows]
    kw = dict(num_negatives=4, range_min=3, range_max=30, absolute_margin=0.02)
    ours = HardNegativeMiner(**kw).fit(qv, dv, (np.arange(len(q_rows)), np.array([b for _, b in q_rows])),
                                       doc_texts=docs)
    model = SentenceTransformer(modules=[StaticEmbedding.from_model2vec(str(resolve_model("static")[1]))],
                                device="cpu")
    import tempfile

    cache = tempfile.mkdtemp()
    name = model.model_card_data.base_model or ""
    for kind, lst, vec in (("query", queries, qv), ("corpus", docs, dv)):
        h = hashlib.sha256(repr((name, None, None, lst)).encode()).hexdigest()
        np.save(f"{cache}/{kind}_embeddings_{h}.npy", vec)
    res = st_util.mine_hard_negatives(Dataset.from_dict({"anchor": queries, "positive": positives}), model,
                                      corpus=docs, sampling_strategy="top", cache_folder=cache, verbose=False,
                                      output_format="triplet", **kw)
    theirs: dict[str, list[str]] = {}
    for a, n in zip(res["anchor"], res["negative"]):
        theirs.setdefault(a, []).append(n)
    mine = {queries[r]: [docs[n] for n in row if n >= 0] for r, row in zip(ours.query_, ours.negatives_)}
    mine = {k: v for k, v in mine.items() if v}
    # documents of exactly equal score (identical vectors) have no defined order in torch.topk, and
    # sentence-transformers 6.2 and 6.3 break such ties differently: a swap of two of them is a match
    row_of, qrow = {t: i for i, t in enumerate(docs)}, {t: i for i, t in enumerate(queries)}

    def same_up_to_ties(q: str) -> bool:
        a, b = mine.get(q, []), theirs.get(q, [])
        score = lambda t: float(qv[qrow[q]] @ dv[row_of[t]])  # noqa: E731
        return len(a) == len(b) and all(x == y or score(x) == score(y) for x, y in zip(a, b, strict=True))

    union = set(mine) | set(theirs)
    assert sum(mine.get(k) == theirs.get(k) for k in union) / len(union) > 0.98
    assert sum(same_up_to_ties(k) for k in union) / len(union) > 0.999


def test_bad_input(bbc_data):
    qv, dv = bbc_data["qv"], bbc_data["dv"]
    qr = (bbc_data["q"], bbc_data["d"])
    with pytest.raises(DataError, match="corpus is empty"):
        HardNegativeMiner().fit(qv, dv[:0], qr)
    with pytest.raises(DataError, match="smaller than the corpus"):
        HardNegativeMiner(num_negatives=10).fit(qv[:3], dv[:5], ([0], [1]))
    with pytest.raises(DataError, match="dimensions"):
        HardNegativeMiner().fit(qv[:, :10], dv, qr)
    with pytest.raises(DataError, match="query row"):
        HardNegativeMiner().fit(qv[:5], dv, ([9], [0]))
    with pytest.raises(ParamError, match="strategy"):
        HardNegativeMiner(strategy="hardest").fit(qv, dv, qr)
    with pytest.raises(DataError, match="range_min"):
        HardNegativeMiner(range_min=10, range_max=5).fit(qv, dv, qr)
    bad = dv.copy()
    bad[len(bad) - 2, 2] = np.inf
    with pytest.raises(DataError, match=f"corpus vectors hold NaN or infinite values \\(row {len(bad) - 2} "):
        HardNegativeMiner().fit(qv, bad, qr)
    with pytest.raises(DataError, match="guide query vectors hold NaN"):
        HardNegativeMiner().fit(qv, dv, qr, guide=(np.where(np.arange(len(qv))[:, None] == 1, np.nan, qv), dv))


@given(n=st.integers(20, 120), m=st.integers(1, 15), k=st.integers(1, 4), seed=st.integers(0, 3),
       margin=st.sampled_from([None, 0.0, 0.1]), strategy=st.sampled_from(STRATS))
def test_properties_on_random_vectors(n, m, k, seed, margin, strategy):
    rng = np.random.default_rng(seed)
    docs = rng.normal(size=(n, 6)).astype(np.float32)
    q = np.arange(m) % n
    queries = docs[q] + 0.5 * rng.normal(size=(m, 6)).astype(np.float32)
    extra = rng.integers(0, n, size=m)
    qrels = (np.r_[np.arange(m), np.arange(m)], np.r_[q, extra])
    miner = HardNegativeMiner(num_negatives=k, strategy=strategy, absolute_margin=margin, seed=seed)
    res = miner.fit(queries, docs, qrels)
    pos = positives_of(*qrels)
    for row, qr in enumerate(res.query_):
        got = res.negatives_[row][res.negatives_[row] >= 0]
        assert len(set(got.tolist())) == len(got)          # no repeats
        assert not set(got.tolist()) & pos[qr]              # never a positive
        sc = res.negative_scores_[row][res.negatives_[row] >= 0]
        assert (np.diff(sc) <= 1e-6).all()                  # best first
        if margin is not None:
            low = min(res.positive_scores_[res.query_ == qr])
            assert (sc + margin <= low + 1e-5).all()
    assert len(res.query_) == len(set(zip(*[x.tolist() for x in qrels])))


def test_many_positives_per_query_on_rotten_tomatoes():
    """RT plot synopsis -> reviews (~31 relevant each): margins are against the lowest positive, none leaks."""
    from datadiet._testing.corpora import rt_retrieval
    from datadiet.signals import get_encoder

    col = rt_retrieval()
    enc = get_encoder("static")
    qv = enc.encode(col["queries"].column("text").to_pylist())
    dv = enc.encode(col["corpus"].column("text").to_pylist())
    qpos = {x: i for i, x in enumerate(col["queries"].column("_id").to_pylist())}
    dpos = {x: i for i, x in enumerate(col["corpus"].column("_id").to_pylist())}
    t = col["qrels_train"]
    q = np.array([qpos[x] for x in t.column("query-id").to_pylist()])
    d = np.array([dpos[x] for x in t.column("corpus-id").to_pylist()])
    texts = col["corpus"].column("text")
    m = HardNegativeMiner(num_negatives=3, absolute_margin=0.0, range_max=200).fit(qv, dv, (q, d), doc_texts=texts)
    assert m.summary_["max_positives"] >= 30
    pos = positives_of(q, d)
    norm = normalize_text(texts).to_pylist()
    lowest = {qr: min(m.positive_scores_[m.query_ == qr]) for qr in set(m.query_.tolist())}
    for row, qr in enumerate(m.query_):
        got = m.negatives_[row][m.negatives_[row] >= 0]
        assert not set(got.tolist()) & pos[qr]
        assert not {norm[n] for n in got} & {norm[p] for p in pos[qr]}
        assert (m.negative_scores_[row][m.negatives_[row] >= 0] <= lowest[qr] + 1e-6).all()
    # the negatives of every positive of one query are the same for `top` (as sentence-transformers)
    first = m.query_ == m.query_[0]
    assert (m.negatives_[first] == m.negatives_[first][0]).all()


def test_cross_encoder_rescoring(bbc_data):
    """A sentence-transformers CrossEncoder (MiniLM weights, seeded head) re-ranks the candidates."""
    torch = pytest.importorskip("torch")
    ce_mod = pytest.importorskip("sentence_transformers.cross_encoder")
    from datadiet.signals._encoders import resolve_model

    torch.manual_seed(0)
    ce = ce_mod.CrossEncoder(str(resolve_model("minilm")[1]), num_labels=1, device="cpu", max_length=64)
    q = np.unique(bbc_data["q"])[:12]
    qrels = (q, q)
    short = [t[:200] for t in bbc_data["texts"].to_pylist()]  # short texts keep the test fast on a CPU
    kw = dict(num_negatives=2, range_max=5, absolute_margin=0.0, duplicate_text=False)
    m = HardNegativeMiner(cross_encoder=ce, **kw).fit(bbc_data["qv"], bbc_data["dv"], qrels,
                                                      query_texts=bbc_data["qtexts"], doc_texts=short)
    qt = bbc_data["qtexts"].to_pylist()
    ok = m.negatives_ >= 0
    pairs = [(qt[qr], short[p]) for qr, p in zip(m.query_, m.positive_)]
    pairs += [(qt[m.query_[r]], short[m.negatives_[r, c]]) for r, c in zip(*np.nonzero(ok))]
    expect = ce.predict(pairs)
    np.testing.assert_allclose(m.positive_scores_, expect[:len(m.query_)], atol=1e-4)
    np.testing.assert_allclose(m.negative_scores_[ok], expect[len(m.query_):], atol=1e-4)
    assert (m.negative_scores_ <= m.positive_scores_[:, None] + 1e-6)[ok].all()  # margin on rescored scores
    with pytest.raises(DataError, match="query_texts"):
        HardNegativeMiner(cross_encoder=ce).fit(bbc_data["qv"], bbc_data["dv"], qrels)


@given(keys=st.lists(st.integers(0, 2**64 - 1), max_size=300), members=st.lists(st.integers(0, 2**64 - 1), max_size=300),
       shared=st.integers(0, 50), shape2=st.booleans())
def test_in_sorted_is_exact_set_membership(keys, members, shared, shape2):
    """The bit-table prefilter never changes the answer: equal to np.isin for any uint64 keys (not only hashes)."""
    from datadiet.negatives._guards import in_sorted

    k = np.array(keys + members[:shared], dtype=np.uint64)
    s = np.unique(np.array(members, dtype=np.uint64))
    if shape2 and k.size % 2 == 0:
        k = k.reshape(2, -1)
    np.testing.assert_array_equal(in_sorted(k, s), np.isin(k, s))


def test_in_sorted_with_a_set_beyond_the_table_cap():
    from datadiet.negatives._guards import in_sorted

    big = np.arange(1_100_000, dtype=np.uint64) * np.uint64(2**24)  # every low 24 bits equal: no filtering at all
    probe = np.concatenate([big[::7], big[::7] + np.uint64(2**23)])
    np.testing.assert_array_equal(in_sorted(probe, big), np.arange(probe.size) < big[::7].size)


def test_repeated_query_or_document_ids_are_refused(bbc_data):
    qv, dv, qr = bbc_data["qv"], bbc_data["dv"], (bbc_data["q"], bbc_data["d"])
    dids = bbc_data["dids"].to_pylist()
    dids[9] = dids[2]
    with pytest.raises(DataError, match=f"doc_ids have repeated values \\(e.g. '{dids[2]}' at rows 2 and 9"):
        HardNegativeMiner().fit(qv, dv, qr, doc_ids=dids)
    qids = np.arange(len(qv))
    qids[-1] = 0
    with pytest.raises(DataError, match="query_ids have repeated values .* leave query_ids out to use row numbers"):
        HardNegativeMiner().fit(qv, dv, qr, query_ids=qids)
