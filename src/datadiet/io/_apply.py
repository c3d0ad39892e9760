"""Materialise a selection: stream the input and write the kept rows, repeated and weighted."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from datadiet._core._errors import DataError
from datadiet._core._hashing import hash_ids
from datadiet._core._progress import progress
from datadiet.io._atomic import atomic_path, check_output_path
from datadiet.io._ids import batch_ids
from datadiet.io._read import _format_of, open_source
from datadiet.io._selection import Selection
from datadiet.io._write import TableWriter

__all__ = ["apply_selection"]


def apply_selection(selection: Selection | str | os.PathLike[str], data: Any, output: str | os.PathLike[str],
                    *, id_column: str | None = None, weight_column: str = "weight", overwrite: bool = False,
                    batch_size: int = 65536, once: bool = False, ids_as: str | None = None,
                    encoding: str | None = None, on_bad_encoding: str | None = None) -> dict[str, int]:
    """Write the rows of ``data`` that ``selection`` keeps to ``output``.

    Each kept row is written ``repeats`` times, in input order. When some weight
    is not 1, a ``weight_column`` is added. The id column defaults to the one
    recorded in the selection's manifest, and so do ``encoding`` and
    ``on_bad_encoding`` (how the selection's input was decoded, so the rows line
    up). The output is written atomically.
    With ``once``, every kept row is written once and no weight is added (the
    rows a next step works on); ``ids_as`` adds each row's id as a column of that
    name, so ids assigned from file and row survive the copy.

    Returns
    -------
    dict with ``rows_in`` and ``rows_out``.

    Examples
    --------
    >>> import tempfile, pathlib, pyarrow as pa
    >>> from datadiet.select import RandomSelector
    >>> t = pa.table({"text": list("abcd")})
    >>> sel = RandomSelector(budget=2).fit(ids=list(range(4))).selection_
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "kept.parquet"
    >>> apply_selection(sel, t, out)["rows_out"]
    2
    """
    sel = selection if isinstance(selection, Selection) else Selection.read(selection)
    read = sel.info.get("read") or {}
    source = open_source(data, encoding=encoding or read.get("encoding"),
                         on_bad_encoding=on_bad_encoding or read.get("on_bad_encoding"))  # a missing input first
    dest = check_output_path(output, overwrite)
    _format_of(Path(dest), "write")  # an output type we cannot write: say so before reading anything
    id_column = id_column or (sel.info.get("columns") or {}).get("id") or (
        "id" if "id" in (sel.info.get("columns_defaulted") or ()) else None)
    if id_column:
        source.check_columns([id_column])
    if weight_column in source.column_names:
        raise DataError(f"the input already has a column {weight_column!r}; choose another --weight-column")
    sel_hash = hash_ids(sel.ids, 0)
    order = np.argsort(sel_hash)
    sorted_hash = sel_hash[order]
    repeats = sel.repeats[order]
    weights = sel.weight[order]
    with_weights = bool(np.any(sel.weight[sel.kept] != 1.0)) and not once
    if once:
        repeats = np.minimum(repeats, 1)
    rows_in = rows_out = 0
    with atomic_path(dest) as tmp, TableWriter(tmp, Path(dest)) as writer, progress("writing", len(sel)) as bar:
        for batch in source.batches(None, batch_size):
            t = batch.table
            ids = batch_ids(t, id_column, batch.file, batch.row_start)
            h = hash_ids(ids, 0)
            pos = np.minimum(np.searchsorted(sorted_hash, h), len(sorted_hash) - 1)
            missing = sorted_hash[pos] != h
            if missing.any():
                ex = ids[int(np.flatnonzero(missing)[0])]
                raise DataError(f"row with id {ex.as_py()!r} of {source.name} is not in the selection: the "
                                 "selection was made from other data or another --id column")
            r = repeats[pos]
            take = np.repeat(np.arange(t.num_rows), r)
            out = t.take(pa.array(take))
            if ids_as is not None:
                out = out.append_column(ids_as, ids.take(pa.array(take)))
            if with_weights:
                out = out.append_column(weight_column, pa.array(np.repeat(weights[pos], r)))
            writer.write(out)
            rows_in += t.num_rows
            rows_out += len(take)
            bar.advance(t.num_rows)
    if rows_in != len(sel):
        os.unlink(dest)
        raise DataError(f"{source.name} has {rows_in} rows but the selection has {len(sel)}: "
                         "apply it to the data it was made from")
    return {"rows_in": rows_in, "rows_out": rows_out}
