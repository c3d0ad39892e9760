"""Real data for the negatives tests: the BBC title -> body collection and static-model vectors."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest


@pytest.fixture(scope="session")
def bbc_col():
    from datadiet._testing.corpora import bbc_retrieval

    return bbc_retrieval()


@pytest.fixture(scope="session")
def bbc_beir(bbc_col, tmp_path_factory):
    from datadiet._testing.corpora import write_beir

    return write_beir(bbc_col, tmp_path_factory.mktemp("bbc") / "beir")


@pytest.fixture(scope="session")
def bbc_vectors(bbc_col):
    """(query vectors, corpus vectors) of the static model (64-d, fast)."""
    from datadiet.signals import get_encoder

    enc = get_encoder("static")
    q = enc.encode(bbc_col["queries"].column("text").to_pylist()).astype(np.float32)
    d = enc.encode(bbc_col["corpus"].column("text").to_pylist()).astype(np.float32)
    return q, d


@pytest.fixture(scope="session")
def bbc_data(bbc_col, bbc_vectors):
    """Everything the miner takes, with train qrels as row numbers."""
    qids = bbc_col["queries"].column("_id").combine_chunks()
    dids = bbc_col["corpus"].column("_id").combine_chunks()
    qpos = {x: i for i, x in enumerate(qids.to_pylist())}
    dpos = {x: i for i, x in enumerate(dids.to_pylist())}
    t = bbc_col["qrels_train"]
    q = np.array([qpos[x] for x in t.column("query-id").to_pylist()])
    d = np.array([dpos[x] for x in t.column("corpus-id").to_pylist()])
    return {"qv": bbc_vectors[0], "dv": bbc_vectors[1], "q": q, "d": d, "qids": qids, "dids": dids,
            "texts": bbc_col["corpus"].column("text").combine_chunks(),
            "qtexts": bbc_col["queries"].column("text").combine_chunks()}


def positives_of(q: np.ndarray, d: np.ndarray) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for a, b in zip(q.tolist(), d.tolist()):
        out.setdefault(a, set()).add(b)
    return out


def as_table(**cols) -> pa.Table:
    return pa.table(cols)
