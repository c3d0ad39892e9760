"""Exact and MinHash near-duplicate dedup on BBC News, checked against brute force."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from datadiet.dedup import (
    Dedup,
    ExactDedup,
    NearDedup,
    Normalization,
    choose_bands,
    jaccard_pairs,
    minhash_signatures,
    shingle_hashes,
)
from datadiet.signals import Signals


@pytest.fixture(scope="module")
def bbc_sig(bbc):
    return Signals.from_arrays(bbc.column("id"), text=bbc.column("text"))


@pytest.fixture(scope="module")
def true_pairs(bbc):
    """Every pair of BBC articles with word-5-shingle Jaccard >= 0.8: all pairs at once.

    The intersection of every pair of shingle sets is one sparse product ``X @ X.T``
    (pairs absent from it share nothing, Jaccard 0).
    """
    from scipy.sparse import csr_matrix

    h, c = shingle_hashes(bbc.column("text"), normalize="default")
    doc = np.repeat(np.arange(len(c)), c)
    codes = np.unique(h, return_inverse=True)[1]
    x = csr_matrix((np.ones(h.size), (doc, codes)), shape=(len(c), codes.max() + 1))
    x.data[:] = 1.0  # repeated shingles count once
    x.sum_duplicates()
    x.data[:] = 1.0
    size = np.asarray(x.sum(axis=1)).ravel()
    inter = (x @ x.T).tocoo()
    i, j, k = inter.row, inter.col, inter.data
    upper = i < j
    i, j, k = i[upper], j[upper], k[upper]
    jac = k / (size[i] + size[j] - k)
    return np.stack([i[jac >= 0.8], j[jac >= 0.8]], axis=1)


def _root(d):
    return np.where(d.duplicate_of_ >= 0, d.duplicate_of_, np.arange(len(d.duplicate_of_)))


def test_exact_count_on_bbc(bbc, bbc_sig):
    raw = ExactDedup(normalize=None).fit(bbc_sig)
    # reference: identical raw texts, counted with Python
    texts = bbc.column("text").to_pylist()
    assert raw.selection_.counts()["duplicate"] == len(texts) - len(set(texts)) == 98
    norm = ExactDedup().fit(bbc_sig)
    ref = Normalization().apply(bbc.column("text")).to_pylist()
    assert norm.selection_.counts()["duplicate"] == len(ref) - len(set(ref))
    # every dropped row really equals its kept row after normalisation
    d = norm.duplicate_of_
    for i in np.flatnonzero(d >= 0):
        assert ref[i] == ref[d[i]] and norm.selection_.kept[d[i]]


def test_near_recall_against_brute_force(bbc_sig, true_pairs):
    d = NearDedup(threshold=0.8).fit(bbc_sig)
    assert 140 <= len(true_pairs) <= 180  # "about 160 near-duplicate pairs"
    root = _root(d)
    found = root[true_pairs[:, 0]] == root[true_pairs[:, 1]]
    assert found.mean() >= 0.95, f"recall {found.mean():.3f}"
    # verified: every dropped row has true Jaccard >= 0.8 to some row of its cluster (its link)
    assert d.selection_.metrics["verified_pairs"] <= d.selection_.metrics["candidate_pairs"]
    dropped = np.flatnonzero(d.duplicate_of_ >= 0)
    assert set(dropped) <= set(true_pairs.ravel())


def test_minhash_estimates_true_jaccard(bbc):
    text = bbc.column("text")
    sig, cnt = minhash_signatures(text, num_perm=128)
    assert sig.dtype == np.uint32 and (cnt > 0).all()
    rng = np.random.default_rng(0)
    # pairs of an article and a copy with some words replaced: Jaccard spread over (0.3, 1)
    texts = text.to_pylist()[:600]
    edited = []
    for t in texts:
        w = t.split()
        for i in rng.integers(0, len(w), size=rng.integers(1, max(2, len(w) // 12))):
            w[i] = f"zz{rng.integers(1 << 40)}"
        edited.append(" ".join(w))
    both = pa.array(texts + edited)
    s2, _ = minhash_signatures(both)
    a = np.arange(600)
    J = jaccard_pairs(both, a, a + 600)
    est = (s2[a] == s2[a + 600]).mean(axis=1)
    mse, theory = ((est - J) ** 2).mean(), (J * (1 - J) / 128).mean()
    assert mse < 1.5 * theory and abs((est - J).mean()) < 0.01


def test_shingles_match_python_reference(bbc):
    texts = bbc.column("text").to_pylist()[:50]
    norm = Normalization().apply(pa.array(texts)).to_pylist()
    h, c = shingle_hashes(texts, normalize="default")
    off = np.r_[0, np.cumsum(c)]
    for i, t in enumerate(norm):
        w = t.split()
        ref = {" ".join(w[j:j + 5]) for j in range(max(len(w) - 4, 1))}
        assert len(set(h[off[i]:off[i + 1]].tolist())) == len(ref)


def test_normalisation_fast_path_equals_regex(rt):
    text = rt.column("text")
    fast = Normalization().apply(text).to_pylist()
    import re
    import unicodedata

    slow = [" ".join(re.sub(r"[^\w\s]|_", "", unicodedata.normalize("NFKC", t).lower()).split()) if t else ""
            for t in text.to_pylist()]
    agree = np.mean([a == b for a, b in zip(fast, slow, strict=False)])
    assert agree > 0.99


def test_idempotent(bbc_sig):
    for make in (lambda: ExactDedup(), lambda: NearDedup(threshold=0.8), lambda: Dedup(exact=True, near=0.7)):
        first = make().fit(bbc_sig)
        kept = first.selected_indices_
        sub = Signals.from_arrays(bbc_sig.ids.take(pa.array(kept)), text=bbc_sig.text.take(pa.array(kept)))
        again = make().fit(sub)
        assert again.selection_.counts() == {"kept": len(kept)}


def test_row_order_independent(bbc, bbc_sig):
    perm = np.random.default_rng(5).permutation(len(bbc))
    shuf = Signals.from_arrays(bbc_sig.ids.take(pa.array(perm)), text=bbc_sig.text.take(pa.array(perm)))
    for keep in ("random", "longest"):
        a = Dedup(exact=True, near=0.8, keep=keep, seed=7).fit(bbc_sig).selection_
        b = Dedup(exact=True, near=0.8, keep=keep, seed=7).fit(shuf).selection_
        ka = set(a.ids.filter(pa.array(a.kept)).to_pylist())
        kb = set(b.ids.filter(pa.array(b.kept)).to_pylist())
        assert ka == kb
        da = dict(zip(a.ids.to_pylist(), a.extra["duplicate_of"].to_pylist(), strict=False))
        db = dict(zip(b.ids.to_pylist(), b.extra["duplicate_of"].to_pylist(), strict=False))
        assert da == db
    # keep="first" depends on order by definition, but which rows are duplicates does not
    a = Dedup(exact=True, near=0.8).fit(bbc_sig).selection_.counts()
    b = Dedup(exact=True, near=0.8).fit(shuf).selection_.counts()
    assert a == b


def test_keep_policies(bbc, bbc_sig):
    lengths = np.array([len(t) for t in bbc.column("text").to_pylist()])
    score = np.random.default_rng(1).random(len(bbc))
    sig = Signals.from_arrays(bbc_sig.ids, text=bbc_sig.text, scores={"q": score})
    for keep, value in (("first", -np.arange(len(bbc))), ("longest", lengths), ("score", score)):
        d = NearDedup(threshold=0.8, keep=keep, score="q" if keep == "score" else None).fit(sig)
        dup = d.duplicate_of_
        rows = np.flatnonzero(dup >= 0)
        assert rows.size > 100
        # the kept row is at least as preferred as every row it replaced
        assert (value[dup[rows]] >= value[rows]).all()
        assert d.selection_.kept[dup[rows]].all()
        assert d.selection_.extra["duplicate_of"].to_pylist()[rows[0]] == bbc_sig.ids[dup[rows[0]]].as_py()
        assert set(d.selection_.extra["dup_method"].drop_null().to_pylist()) == {"near"}
    r1 = NearDedup(threshold=0.8, keep="random", seed=1).fit(sig).selected_indices_
    r2 = NearDedup(threshold=0.8, keep="random", seed=2).fit(sig).selected_indices_
    assert len(r1) == len(r2) and not np.array_equal(r1, r2)


def test_cross_set_contamination(bbc, bbc_sig):
    # evaluation set: 100 articles, half of them lightly edited; the training set is the full corpus
    rng = np.random.default_rng(3)
    rows = rng.choice(len(bbc), size=100, replace=False)
    texts = [bbc.column("text")[int(i)].as_py() for i in rows]
    texts = [t + " Additional closing words." if k % 2 else t for k, t in enumerate(texts)]
    ev = Signals.from_arrays([f"eval/{k}" for k in range(100)], text=texts)
    d = Dedup(exact=True, near=0.8).fit(bbc_sig, against=ev)
    sel = d.selection_
    contaminated = np.flatnonzero(sel.reason == sel.reason_names.index("contaminated"))
    assert set(rows) <= set(contaminated)  # every source article is caught
    assert d.overlaps_.num_rows == contaminated.size
    assert all(e.startswith("eval/") for e in d.overlaps_.column("eval_id").to_pylist())
    assert sel.metrics["contaminated"] == contaminated.size
    only = Dedup(exact=True, near=0.8, within=False).fit(bbc_sig, against=ev).selection_
    assert only.counts().get("duplicate", 0) == 0 and only.counts()["contaminated"] == contaminated.size


def test_lsh_tradeoff():
    p = choose_bands(0.8, 128)
    assert p.bands * p.rows <= 128 and (p.bands, p.rows) == (9, 13)  # datasketch's choice
    q = choose_bands(0.8, 128, fp_weight=0.1, fn_weight=0.9)
    assert q.false_negative < p.false_negative and q.false_positive > p.false_positive
    assert "false-negative" in p.tradeoff()


@pytest.mark.parametrize("make, match", [
    (lambda: NearDedup(threshold=1.5), r"must be a number in \(0, 1\]"),
    (lambda: NearDedup(threshold=0), r"must be a number in \(0, 1\]"),
    (lambda: NearDedup(num_perm=0), "num_perm"),
    (lambda: NearDedup(shingle="sentence"), "shingle"),
    (lambda: NearDedup(verify="maybe"), "verify"),
    (lambda: NearDedup(bands=20, rows=20), "num_perm"),
    (lambda: ExactDedup(keep="best"), "keep must be one of"),
    (lambda: ExactDedup(keep="score"), "score must be the name of a score column"),
    (lambda: ExactDedup(normalize="lower,stem"), "unknown normalisation step"),
    (lambda: Dedup(exact=False), "nothing to do"),
])
def test_bad_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make().fit(text=["a b c", "a b c"])


def test_bad_input():
    with pytest.raises(ValueError, match="needs text"):
        ExactDedup().fit(Signals.from_arrays(ids=[1, 2]))
    with pytest.raises(TypeError, match="must hold strings"):
        ExactDedup().fit(Signals(pa.array([1, 2]), text=pa.array([1, 2])))
    with pytest.raises(ValueError, match="null"):
        NearDedup().fit(Signals(pa.array([1, 2]), text=pa.array(["a", None])))
    with pytest.raises(ValueError, match="score column 'q'"):
        ExactDedup(keep="score", score="q").fit(text=["a", "a"])
    with pytest.raises(ValueError, match="no examples"):
        ExactDedup().fit(Signals(pa.array([], pa.int64()), text=pa.array([], pa.string())))


def test_threaded_signatures_equal_serial(bbc, monkeypatch):
    import datadiet.dedup._minhash as mh

    monkeypatch.setattr(mh, "TEXT_CHUNK_BYTES", 200_000)  # many blocks, so threads really share the work
    texts = bbc.column("text").combine_chunks()
    serial, c1 = mh.minhash_signatures(texts, n_jobs=1)
    threaded, c2 = mh.minhash_signatures(texts, n_jobs=3)
    np.testing.assert_array_equal(serial, threaded)
    np.testing.assert_array_equal(c1, c2)
    with pytest.raises(ValueError, match="n_jobs"):
        mh.minhash_signatures(texts[:2], n_jobs=0)


def _python_shingles(units, counts, ngram):
    """Reference of the shingle combination, one document and one shingle at a time."""
    from datadiet._core._hashing import splitmix64
    from datadiet.dedup._minhash import _M2, _MIX

    out, per_doc, pos = [], [], 0
    mask = (1 << 64) - 1
    for cnt in counts.tolist():
        u = [int(x) for x in units[pos:pos + cnt]]
        pos += cnt
        starts = range(max(cnt - ngram + 1, 1)) if cnt else range(0)
        for i in starts:
            terms = min(ngram, cnt - i)
            acc = sum(u[i + j] * int(_MIX[j % 64]) for j in range(terms)) & mask
            out.append(acc ^ ((terms * int(_M2)) & mask))
        per_doc.append(len(starts))
    return splitmix64(np.array(out, dtype=np.uint64)), np.array(per_doc)


def test_shingle_hashes_equal_one_at_a_time_reference(rt):
    """The vectorised shingle combination gives the same hashes as a per-shingle loop, short and empty
    documents (fewer than ``ngram`` words, no words at all) included."""
    from datadiet.dedup._minhash import _shingles, _word_units

    texts = rt.column("text").to_pylist()[:300] + ["", "one", "two words", "   ", "a b c d"]
    units, counts = _word_units(pa.array(texts), Normalization.parse("default"))
    assert (counts == 0).any() and ((counts > 0) & (counts < 5)).any()
    for ngram in (1, 3, 5, 9):
        h, c = _shingles(units, counts, ngram)
        ref_h, ref_c = _python_shingles(units, counts, ngram)
        np.testing.assert_array_equal(c, ref_c)
        np.testing.assert_array_equal(h, ref_h)


def test_signatures_equal_direct_minimum(rt):
    """Each signature entry is min over the document's shingles of ``a * x mod 2**32``."""
    from datadiet.dedup._minhash import _permutations

    texts = rt.column("text").to_pylist()[:200] + [""]
    sig, cnt = minhash_signatures(texts, num_perm=64, ngram=3)
    h, c = shingle_hashes(texts, ngram=3, normalize="default")
    a = _permutations(64, 1)
    x = (h >> np.uint64(32)).astype(np.uint64)
    off = np.r_[0, np.cumsum(c)]
    for i in range(len(texts)):
        if c[i] == 0:
            assert (sig[i] == 0xFFFFFFFF).all()
            continue
        perm = (x[off[i]:off[i + 1], None] * a[None, :].astype(np.uint64)) % (1 << 32)
        np.testing.assert_array_equal(sig[i], perm.min(axis=0).astype(np.uint32))


def test_later_lsh_rounds_only_revisit_changed_buckets(bbc_sig, monkeypatch):
    """Later LSH rounds look only at buckets that lost a row; the result equals redoing every bucket."""
    import datadiet.dedup._near as near

    fast = NearDedup(threshold=0.5, verify="jaccard").fit(bbc_sig)
    assert fast.selection_.metrics.get("near_rounds", 1) >= 2  # a second round really ran
    full_links = near.band_links

    def every_bucket(*args, changed=None, **kw):
        return full_links(*args, **kw)

    monkeypatch.setattr(near, "band_links", every_bucket)
    slow = NearDedup(threshold=0.5, verify="jaccard").fit(bbc_sig)
    np.testing.assert_array_equal(fast.duplicate_of_, slow.duplicate_of_)
    assert fast.selection_.metrics["candidate_pairs"] < slow.selection_.metrics["candidate_pairs"]
