"""The byte-level word path of MinHash: splitting, ASCII folding, hashing, signature blocks, cache version."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import datadiet.dedup._minhash as mh
from datadiet._core._errors import DataError
from datadiet.dedup import Normalization, minhash_signal, minhash_signatures, shingle_hashes
from datadiet.dedup._minhash import minhash_params
from datadiet.dedup._normalize import _WS_MULTI, word_dictionary, word_spans

# every whitespace character of str.split(), control bytes that are not whitespace, multi-byte
# characters next to whitespace, punctuation, full-width and ligature forms, empty documents
EDGES = [
    "", " ", "one", "two words", "   lead", "trail   ", "tab\tnew\nline\r\n end\x0b\x0c.",
    "\x1cfile\x1dgroup\x1erecord\x1funit", "\x01ctrl\x02 inside\x1b words\x7f",
    "a" + "\u00a0b\u2003c\u3000d\u0085e\u1680f\u2028g\u2029h\u202fi\u205fj\u200ak" + "\u2009",
    "Ünïcode ＷＯＲＤ ﬁne Straße STRASSE ΣΊΣΥΦΟΣ", "don't stop--me now!!! ,,, ok (e.g.) x=1; y<2 [a]{b}~`^|",
    "A" * 40 + " " + "B" * 17 + "! " + "c" * 8 + " " + "D" * 9 + " " + "é" * 30,
    "\u00a0\u00a0", "x\u00a0", "\u2000y", "emoji 🙂 and 中文字符 mixed\u3000ＡＢＣ",
    "\u00c2\u00a0 (Â then nbsp) \u00e2\u0080 raw-looking", "¡Hola! ¿Qué tal? — «bien»",
]


def _texts(rt, bbc):
    return rt.column("text").to_pylist()[:2000] + bbc.column("text").to_pylist()[:200] + EDGES


def test_word_spans_split_like_python(rt, bbc):
    texts = _texts(rt, bbc)
    arr = pa.array(texts, pa.large_string())
    data, offsets = mh._bytes_and_offsets(arr)
    starts, lengths, counts = word_spans(data, offsets)
    raw = data.tobytes()
    words = [raw[s:s + n].decode() for s, n in zip(starts.tolist(), lengths.tolist(), strict=True)]
    expected = [w for t in texts for w in t.split()]
    assert words == expected
    assert counts.tolist() == [len(t.split()) for t in texts]
    assert len(_WS_MULTI) == sum(chr(c).isspace() for c in range(0x80, 0x110000))


@pytest.mark.parametrize("spec", ["default", "lower,space", "space", "none", "punct", "lower,punct", "nfkc",
                                  "nfd,lower", "nfkc,punct"])
def test_word_units_equal_dictionary_reference(rt, bbc, spec):
    """Folding ASCII eight bytes at a time gives the same units as normalising every distinct word with
    Arrow (NFKC, lower-case, punctuation regex), words that normalise to nothing dropped."""
    norm = Normalization.parse(spec)
    arr = pa.array(_texts(rt, bbc), pa.large_string())
    words, codes, counts = word_dictionary(arr, norm)
    w_data, w_off = mh._bytes_and_offsets(words.cast(pa.large_string()))
    w_hash, _ = mh._hash_spans(mh._padded(w_data), w_off[:-1], np.diff(w_off))
    units, got_counts = mh._word_units(arr, norm)
    np.testing.assert_array_equal(got_counts, counts)
    np.testing.assert_array_equal(units, w_hash[codes])


def test_hash_spans_depend_on_bytes_only():
    """The same bytes give the same hash wherever they sit; any change of one byte or of the length changes it."""
    rng = np.random.default_rng(0)
    words = [bytes(rng.integers(33, 127, size=n, dtype=np.uint8)) for n in (1, 7, 8, 9, 15, 16, 17, 64, 65, 300)]
    variants = set()
    for w in words:
        variants.add(w)
        variants.add(w[:-1] + bytes([w[-1] ^ 1]))
        variants.add(w + b"\x00")  # a trailing zero byte is a different, longer word
    variants_l = sorted(variants)
    hashes = {}
    for shift in (0, 3):
        blob = b"?" * shift + b"".join(variants_l)
        starts = shift + np.cumsum([0] + [len(v) for v in variants_l[:-1]])
        h, _ = mh._hash_spans(mh._padded(np.frombuffer(blob, np.uint8)), starts, [len(v) for v in variants_l])
        hashes[shift] = h
    np.testing.assert_array_equal(hashes[0], hashes[3])
    assert np.unique(hashes[0]).size == len(variants_l)


def test_signature_blocks_with_empty_documents(rt, monkeypatch):
    """Documents without shingles inside and at the end of blocks get 0xFFFFFFFF; the others their minimum."""
    monkeypatch.setattr(mh, "SHINGLE_BLOCK", 64)
    texts = rt.column("text").to_pylist()[:120]
    for i in (0, 5, 6, 40, 63, 64, 65):
        texts.insert(i, " !!! " if i % 2 else "")
    texts += ["", "..."]
    sig, cnt = minhash_signatures(texts, num_perm=32, ngram=2)
    h, c = shingle_hashes(texts, ngram=2, normalize="default")
    np.testing.assert_array_equal(cnt, c)
    a = mh._permutations(32, 1).astype(np.uint64)
    x = (h >> np.uint64(32)).astype(np.uint64)
    off = np.r_[0, np.cumsum(c)]
    assert (c == 0).sum() >= 9
    for i in range(len(texts)):
        want = ((x[off[i]:off[i + 1], None] * a[None, :]) % (1 << 32)).min(axis=0) if c[i] else 0xFFFFFFFF
        np.testing.assert_array_equal(sig[i], np.broadcast_to(want, (32,)).astype(np.uint32))


def test_version_is_part_of_the_cache_key(bbc, tmp_path):
    """Signatures cached by the older scheme (no ``version`` in the key) are not reused."""
    import pyarrow.parquet as pq

    from datadiet.io import open_source
    from datadiet.signals import SignalCache

    data = tmp_path / "bbc.parquet"
    pq.write_table(bbc.slice(0, 300), data)
    params = minhash_params(num_perm=16)
    assert params["version"] == mh.MINHASH_VERSION
    with pytest.raises(DataError, match="version"):
        minhash_params(version=1)
    old_key = {k: v for k, v in params.items() if k != "version"} | {"column": "text"}
    store = SignalCache(open_source(data), tmp_path / "cache")
    planted = np.zeros((300, 16), np.uint32)
    store.save_vectors("minhash", old_key, planted)
    store.save_vectors("minhash_count", old_key, np.ones(300, np.int64))
    sig, cnt = minhash_signal(data, "text", num_perm=16, cache_root=tmp_path / "cache")
    ref, ref_cnt = minhash_signatures(bbc.column("text").slice(0, 300), **params)
    np.testing.assert_array_equal(sig, ref)
    np.testing.assert_array_equal(cnt, ref_cnt)
    assert (sig != 0).any()


def test_default_threads_follow_the_idle_cpus(monkeypatch):
    """Without ``n_jobs``, one thread per idle CPU (1 to 8): a busy machine gets one thread."""
    import os

    monkeypatch.setattr(os, "getloadavg", lambda: (64.0, 64.0, 64.0))
    assert mh._idle_cpus() == 1
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert mh._idle_cpus() == max(1, min(len(os.sched_getaffinity(0)), 8))
