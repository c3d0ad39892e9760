"""Hashed n-gram featurizer: documented tokenization and hash, chunking, caching."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pytest

from datadiet.signals import SignalCache, _ngrams, hashed_ngrams, iter_ngrams, ngram_counts

M64 = (1 << 64) - 1
WORDPUNCT_ASCII = re.compile(r"[A-Za-z0-9_]+|[^A-Za-z0-9_\s\x1c-\x1f]+")


def _splitmix(x: int) -> int:
    z = (x + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def _reference(text: str, buckets: int) -> list[int]:
    """Plain-Python implementation of the module docstring (ASCII text)."""
    hs = []
    for tok in WORDPUNCT_ASCII.findall(text.lower()):
        h = 0
        for i, byte in enumerate(tok.encode()):
            h = (h + byte * pow(0x100000001B3, i, 1 << 64)) & M64
        h ^= (len(tok) * 0x2545F4914F6CDD1D) & M64
        hs.append(_splitmix(h))
    out = []
    for i, h in enumerate(hs):
        out.append(h)
        if i + 1 < len(hs):
            out.append(_splitmix((h * 0x9E3779B97F4A7C15 + hs[i + 1]) & M64))
    return [((h >> 32) * buckets) >> 32 for h in out]


def test_matches_documented_tokenization_and_hash_on_real_text(bbc):
    texts = [t for t in bbc.column("text").to_pylist()[:60] if t.isascii()][:40]
    nb = hashed_ngrams(texts, buckets=10_000)
    for i, t in enumerate(texts):
        got = nb.buckets[nb.offsets[i]: nb.offsets[i + 1]].tolist()
        assert got == _reference(t, 10_000)
        assert nb.n_tokens[i] == len(WORDPUNCT_ASCII.findall(t))


def test_case_and_spacing_do_not_matter_and_punctuation_splits():
    a = hashed_ngrams(["The CAT sat.\n"], buckets=1000).buckets
    b = hashed_ngrams(["  the cat   sat ."], buckets=1000).buckets
    np.testing.assert_array_equal(a, b)
    assert hashed_ngrams(["don't"], buckets=1000).n_tokens.tolist() == [3]


def test_chunking_and_batching_do_not_change_features(rt, monkeypatch):
    texts = rt.column("text").slice(0, 3000)
    whole = hashed_ngrams(texts, buckets=5000)
    monkeypatch.setattr(_ngrams, "_CHUNK_BYTES", 4096)
    chunked = hashed_ngrams(texts, buckets=5000)
    np.testing.assert_array_equal(whole.offsets, chunked.offsets)
    np.testing.assert_array_equal(whole.buckets, chunked.buckets)
    parts = [hashed_ngrams(texts.slice(s, 700), buckets=5000) for s in range(0, 3000, 700)]
    np.testing.assert_array_equal(ngram_counts(texts, 5000), sum(p.counts(5000) for p in parts))


def test_empty_null_and_non_string_text():
    nb = hashed_ngrams(pa.array(["", None, "  \n", "a"]), buckets=10)
    assert nb.n_tokens.tolist() == [0, 0, 0, 1]
    assert nb.offsets.tolist() == [0, 0, 0, 0, 1]
    assert len(hashed_ngrams([], buckets=10)) == 0
    with pytest.raises(TypeError, match="strings"):
        hashed_ngrams(pa.array([1, 2]), buckets=10)
    with pytest.raises(TypeError, match="strings"):
        hashed_ngrams(["a", 3], buckets=10)
    with pytest.raises(ValueError, match="buckets"):
        hashed_ngrams(["a"], buckets=0)


def test_dot_and_csr_agree(rt):
    nb = hashed_ngrams(rt.column("text").slice(0, 500), buckets=300)
    v = np.random.default_rng(0).normal(size=300)
    np.testing.assert_allclose(nb.dot(v), nb.to_csr(300) @ v, rtol=1e-9)


def test_cache_is_written_once_and_reused(rt, tmp_path, monkeypatch):
    path = tmp_path / "rt.parquet"
    import pyarrow.parquet as pq

    pq.write_table(rt.select(["id", "text"]), path)
    cache = SignalCache(__import__("datadiet").open_source(path), root=tmp_path / "cache")
    first = list(iter_ngrams(path, "text", id_column="id", buckets=2000, cache=cache, batch_size=4000))
    assert any(e["name"] == "ngrams" for e in cache.entries())

    def boom(*a, **k):
        raise AssertionError("featurised again instead of reading the cache")

    monkeypatch.setattr(_ngrams, "hashed_ngrams", boom)
    again = list(iter_ngrams(path, "text", id_column="id", buckets=2000, cache=cache))
    assert pa.concat_arrays([i for i, _ in first]).equals(pa.concat_arrays([i for i, _ in again]))
    np.testing.assert_array_equal(np.concatenate([b.buckets for _, b in first]),
                                  np.concatenate([b.buckets for _, b in again]))
    np.testing.assert_array_equal(np.concatenate([b.n_tokens for _, b in first]),
                                  np.concatenate([b.n_tokens for _, b in again]))


def test_threads_give_the_same_features(rt, monkeypatch):
    monkeypatch.setattr(_ngrams, "_pow_cache", {})  # force the shared power tables to grow under threads
    t = pa.table({"text": rt.column("text")})
    one = list(iter_ngrams(t, "text", buckets=999, cache=False, batch_size=500, n_jobs=1))
    monkeypatch.setattr(_ngrams, "_pow_cache", {})
    two = list(iter_ngrams(t, "text", buckets=999, cache=False, batch_size=500, n_jobs=2))
    np.testing.assert_array_equal(np.concatenate([b.buckets for _, b in one]),
                                  np.concatenate([b.buckets for _, b in two]))
