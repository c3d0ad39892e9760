import zlib

import numpy as np
import pytest


def hashed_bow(texts, dim=256):
    """A real (if simple) text embedding: L2-normalised hashed bag of words (crc32, stable)."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, t in enumerate(texts):
        for w in t.lower().split():
            out[i, zlib.crc32(w.encode()) % dim] += 1.0
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


@pytest.fixture
def bbc_selection(bbc_jsonl):
    """A balanced, upsampled selection of BBC News written by the library (2,225 real articles)."""
    from datadiet.balance import GroupBalanceSelector
    from datadiet.engine import load_signals
    from datadiet.io import open_source
    from datadiet.signals import Columns

    columns = Columns(id="id", text="text", group="topic")
    source = open_source(bbc_jsonl)
    sig = load_signals(source, columns, need_tokens=True)
    sel = GroupBalanceSelector(budget=2000, alpha=0.0, mode="upsample", max_repeats=3, seed=0).fit(sig).selection_
    sel.info.update({"input": str(bbc_jsonl), "input_fingerprint": source.fingerprint(),
                     "columns": columns.as_dict()})
    path = bbc_jsonl.parent / "sel.parquet"
    sel.write(path)
    return path


@pytest.fixture
def bbc_embedding(bbc, bbc_jsonl):
    """Cache an 'embedding' signal for the BBC input, as embed_source would."""
    from datadiet.io import open_source
    from datadiet.signals import SignalCache

    emb = hashed_bow(bbc.column("text").to_pylist())
    SignalCache(open_source(bbc_jsonl)).save_vectors("embedding", {"model": "hashed-bow-256"}, emb)
    return emb
