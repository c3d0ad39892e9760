"""MinHash signatures (the per-row pass of near-duplicate dedup) as a step on any engine."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from datadiet._core._errors import DataError, DataTypeError
from datadiet.dedup._minhash import minhash_params, minhash_signatures
from datadiet.engine._step import Step
from datadiet.io._read import Batch, open_source

__all__ = ["MinHashStep", "minhash_on_engine"]


class MinHashStep(Step):
    """Per row: the MinHash signature (``num_perm`` uint32) and the number of shingles.

    Calls :func:`datadiet.dedup.minhash_signatures` on each block with one thread
    (the engine gives each worker one CPU); a signature depends on its text only,
    so blocks and engines give the same signatures.
    """

    def __init__(self, text: str, **params: Any) -> None:
        self.text = text
        self.params = minhash_params(**params)
        self.columns = [text]

    def process_batch(self, batch: Batch) -> pa.Table:
        col = batch.table.column(self.text)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            raise DataTypeError(f"text column {self.text!r} must hold strings, found {col.type}")
        sig, cnt = minhash_signatures(col.combine_chunks(), n_jobs=1, **self.params)
        flat = pa.array(sig.ravel())
        return pa.table({"signature": pa.FixedSizeListArray.from_arrays(flat, self.params["num_perm"]),
                         "shingles": pa.array(cnt)})


def minhash_on_engine(source: Any, text: str, engine: Any, *, batch_size: int = 65536,
                      **params: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(signatures, shingle counts)`` of ``source``'s ``text`` column, computed by ``engine``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from datadiet.engine import LocalEngine
    >>> sig, cnt = minhash_on_engine(pa.table({"t": ["a b c", "d e f"]}), "t", LocalEngine(), num_perm=16)
    >>> sig.shape, cnt.tolist()
    ((2, 16), [1, 1])
    """
    from datadiet.engine._engines import get_engine

    src = open_source(source)
    step = MinHashStep(text, **params)
    out = get_engine(engine).run(src, step, batch_size=batch_size, description="minhash signatures")
    p = step.params["num_perm"]
    if out.num_rows == 0:
        raise DataError(f"{src.name} has no rows to deduplicate")
    sig = out.column("signature").combine_chunks().flatten().to_numpy().reshape(-1, p)
    return np.ascontiguousarray(sig, dtype=np.uint32), out.column("shingles").to_numpy().astype(np.int64)
