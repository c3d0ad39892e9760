"""Stable row ids.

When the user names an id column, its values are the ids (integers or strings,
unique). Otherwise datadiet assigns ids from where a row lives, not from when it
was read:

* a row of a file gets the string ``"<file>:<row>"``, where ``<file>`` is the path
  relative to the dataset folder (or the file name for a single file) and
  ``<row>`` is the 0-based row number inside that file;
* a row of an in-memory table gets its 0-based row number (int64).

So ids do not change when the same files are read in another order, with
another batch size or on another engine. They do change if files are renamed
or rows are inserted; name an id column when that matters.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datadiet._core._errors import DataError, DataTypeError
from datadiet._core._hashing import hash_ids

__all__ = ["batch_ids", "check_unique"]


def batch_ids(table: pa.Table, id_column: str | None, file: str | None, row_start: int) -> pa.Array:
    """Ids of the rows of one batch (see the module docstring for the scheme)."""
    if id_column is not None:
        col = table.column(id_column).combine_chunks()
        t = col.type
        if pa.types.is_dictionary(t):
            col = col.dictionary_decode()
            t = col.type
        if not (pa.types.is_integer(t) or pa.types.is_string(t) or pa.types.is_large_string(t)):
            raise DataTypeError(f"id column {id_column!r} must hold integers or strings, found {t}")
        if col.null_count:
            raise DataError(f"id column {id_column!r} has {col.null_count} empty (null) values; every row needs an id")
        if pa.types.is_integer(t):
            return col.cast(pa.int64())
        return col.cast(pa.string())
    rows = np.arange(row_start, row_start + table.num_rows, dtype=np.int64)
    if file is None:
        return pa.array(rows)
    return pc.binary_join_element_wise(file + ":", pc.cast(pa.array(rows), pa.string()), "")


def check_unique(ids: pa.Array, id_column: str | None, *, python: str | None = None) -> None:
    """Raise if ids repeat, naming an example (``python``: the argument that gave them in Python, not a file)."""
    if pa.types.is_integer(ids.type) and len(ids):
        a = ids.to_numpy(zero_copy_only=False)
        lo, hi = int(a.min()), int(a.max())
        if hi - lo < 8 * len(a) + 1024:  # dense integer ids: one counting pass
            if np.bincount(a - lo).max() <= 1:
                return
        elif len(pc.unique(ids)) == len(ids):
            return
    elif len(pc.unique(ids)) == len(ids):  # hash table in Arrow: one pass, no sort
        return
    h = hash_ids(ids, 0)
    order = np.argsort(h, kind="stable")
    hs = h[order]
    dup = np.flatnonzero(hs[1:] == hs[:-1])
    if dup.size == 0:
        return
    a, b = order[dup[0]], order[dup[0] + 1]
    va, vb = ids[int(a)].as_py(), ids[int(b)].as_py()
    if va == vb:
        where = (f"{python} have" if python else f"id column {id_column!r} has" if id_column else
                 "the assigned ids have")
        fix = (f"give every example its own id, or leave {python} out to use row numbers" if python else
               "name another --id column or leave it out to assign ids")
        raise DataError(f"{where} repeated values (e.g. {va!r} at rows {a} and {b}; {int(dup.size)} repeats "
                        f"in all): ids must be unique; {fix}")
