"""Per-block partial results: how a map stage hands arrays to a reduce in the driver.

A step usually returns one output row per input row. A *partial* step returns one
row per input block instead, holding arrays as list columns (per-block n-gram
counts, a block's top-k candidates, ...). Both engines return blocks in input
order, so the driver reduces them the same way whatever ran them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["block_row", "stacked", "concatenated", "BlockOffsets"]


def block_row(**arrays: Any) -> pa.Table:
    """One row whose columns hold whole arrays (numpy or pyarrow) as lists, or scalars."""
    cols: dict[str, Any] = {}
    for name, a in arrays.items():
        if isinstance(a, (pa.Array, pa.ChunkedArray)):
            arr = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
            cols[name] = pa.LargeListArray.from_arrays(pa.array([0, len(arr)], pa.int64()), arr)
        elif isinstance(a, np.ndarray):
            flat = pa.array(np.ascontiguousarray(a).ravel())
            cols[name] = pa.LargeListArray.from_arrays(pa.array([0, len(flat)], pa.int64()), flat)
        elif isinstance(a, str):
            cols[name] = pa.array([a], pa.string())
        else:
            cols[name] = pa.array([a])
    return pa.table(cols)


def concatenated(table: pa.Table, name: str) -> pa.Array:
    """The lists of column ``name`` of every block, joined in block order."""
    col = table.column(name)
    parts = [c.flatten() for c in col.chunks]
    if not parts:
        return pa.array([])
    return pa.concat_arrays([p.cast(parts[0].type) for p in parts])


def stacked(table: pa.Table, name: str, width: int) -> np.ndarray:
    """Column ``name`` as a ``(blocks, width)`` numpy array (each block's list has ``width`` values)."""
    return concatenated(table, name).to_numpy(zero_copy_only=False).reshape(table.num_rows, width)


@dataclass
class BlockOffsets:
    """Global row offset of every block, keyed by ``(file, first row)`` (what a :class:`Batch` knows).

    Made by the driver after a first pass that reported each block's file, first row
    and length; later passes use it to slice arrays broadcast from the driver
    (masks, weights) without shipping positions with the data.
    """

    offsets: dict[tuple[str | None, int], int]

    @classmethod
    def from_blocks(cls, files: list[Any], row_starts: list[int], lengths: list[int]) -> BlockOffsets:
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64).tolist() if lengths else []
        return cls({(f, int(r)): int(s) for f, r, s in zip(files, row_starts, starts, strict=True)})

    def of(self, batch: Any) -> int:
        return self.offsets[(batch.file, int(batch.row_start))]
