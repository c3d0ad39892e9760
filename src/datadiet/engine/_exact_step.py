"""Exact dedup as map -> reduce: per-row keys of the normalised text, grouped in the driver."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pyarrow as pa

from datadiet.dedup._normalize import Normalization, as_text_array
from datadiet.engine._step import Step
from datadiet.io._read import Batch, open_source

__all__ = ["ExactKeyStep", "exact_groups", "exact_digests"]


class ExactKeyStep(Step):
    """Per row: the 128-bit BLAKE2b digest (two uint64) of the text after normalisation.

    A collision between different texts (about ``n**2 / 2**129``) is negligible at
    any corpus size, so grouping by the key equals grouping by the normalised text,
    without shipping texts to the driver.
    """

    def __init__(self, text: str, normalize: Any = "default") -> None:
        self.text = text
        self.norm = Normalization.parse(normalize)
        self.columns = [text]

    def process_batch(self, batch: Batch) -> pa.Table:
        keys = exact_digests(as_text_array(batch.table.column(self.text), "the text column"), self.norm)
        return pa.table({"h1": pa.array(keys[:, 0]), "h2": pa.array(keys[:, 1])})


def exact_digests(text: pa.Array, norm: Normalization) -> np.ndarray:
    """``(n, 2)`` uint64: the 128-bit BLAKE2b digest of every text after normalisation."""
    arr = norm.apply(text).cast(pa.large_binary())
    bufs = arr.buffers()
    offs = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1].tolist()
    data = memoryview(bufs[2]) if bufs[2] is not None else memoryview(b"")
    digest = b"".join(hashlib.blake2b(data[a:b], digest_size=16).digest() for a, b in zip(offs[:-1], offs[1:]))
    return np.frombuffer(digest, dtype=np.uint64).reshape(len(arr), 2)


def exact_groups(source: Any, text: str, engine: Any, *, normalize: Any = "default",
                 batch_size: int = 65536) -> np.ndarray:
    """Group label of every row (equal normalised texts share a label, numbered by first appearance).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from datadiet.engine import LocalEngine
    >>> exact_groups(pa.table({"t": ["Hello world", "hello,  WORLD!", "other"]}), "t", LocalEngine()).tolist()
    [0, 0, 1]
    """
    from datadiet.engine._engines import get_engine

    out = get_engine(engine).run(open_source(source), ExactKeyStep(text, normalize), batch_size=batch_size,
                                 description="exact keys")
    if out.num_rows == 0:
        return np.zeros(0, np.int64)
    keys = np.stack([out.column("h1").to_numpy(), out.column("h2").to_numpy()], axis=1)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    rank = np.empty(len(first), np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.ravel()]
