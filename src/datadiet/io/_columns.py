"""Column converters and row counts shared by every reader of a source."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datadiet._core._errors import DataError, DataTypeError
from datadiet.io._read import Source

__all__ = ["column_floats", "column_vectors", "total_rows"]


def total_rows(source: Source) -> int | None:
    """Row count when it is cheap to know (tables and Parquet), else ``None``."""
    if source.table is not None:
        return source.table.num_rows
    import pyarrow.parquet as pq

    if all(f.suffix.lower() in (".parquet", ".pq") for f in source.files):
        return sum(pq.ParquetFile(f).metadata.num_rows for f in source.files)
    return None


def column_floats(col: pa.ChunkedArray, name: str) -> np.ndarray:
    if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_boolean(col.type)):
        raise DataTypeError(f"column {name!r} must hold numbers, found {col.type}")
    if col.null_count:
        raise DataError(f"column {name!r} has {col.null_count} empty (null) values; fill or drop them first")
    return col.to_numpy().astype(np.float64)


def column_vectors(col: pa.ChunkedArray, name: str) -> np.ndarray:
    t = col.type
    if not (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)):
        raise DataTypeError(f"column {name!r} must hold lists of floats (vectors), found {t}")
    arr = col.combine_chunks()
    if arr.null_count:
        raise DataError(f"column {name!r} has {arr.null_count} empty (null) vectors")
    lengths = pc.list_value_length(arr).to_numpy(zero_copy_only=False)
    if len(lengths) and (lengths != lengths[0]).any():
        raise DataError(f"column {name!r} holds vectors of different lengths ({lengths.min()}..{lengths.max()})")
    flat = pc.list_flatten(arr).to_numpy(zero_copy_only=False).astype(np.float32)
    d = int(lengths[0]) if len(lengths) else 0
    return flat.reshape(len(arr), d)
