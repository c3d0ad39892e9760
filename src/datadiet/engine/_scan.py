"""Gather the small per-example signals of a source in one streaming pass (any engine)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from datadiet._core._errors import DataError, DataTypeError
from datadiet.engine._step import Step
from datadiet.io._columns import column_floats, column_vectors
from datadiet.io._ids import batch_ids, check_unique
from datadiet.io._read import Batch, open_source
from datadiet.signals._table import Columns, Signals, check_on_null
from datadiet.signals._tokens import estimate_tokens

__all__ = ["load_signals", "SignalStep"]


class SignalStep(Step):
    """Per batch: ids, token counts, group, scores, vectors and (optionally) text as one table."""

    def __init__(self, columns: Columns, read: list[str], keep_text: bool, need_tokens: bool) -> None:
        self.roles = columns
        self.columns = read
        self.keep_text = keep_text
        self.need_tokens = need_tokens

    def process_batch(self, batch: Batch) -> pa.Table:
        c, t = self.roles, batch.table
        group_col = c.group or c.label
        out: dict[str, Any] = {"id": batch_ids(t, c.id, batch.file, batch.row_start)}
        if c.text and c.text in t.column_names:
            txt = t.column(c.text).combine_chunks()
            if pa.types.is_dictionary(txt.type):
                txt = txt.dictionary_decode()
            if not (pa.types.is_string(txt.type) or pa.types.is_large_string(txt.type)):
                raise DataTypeError(f"text column {c.text!r} must hold strings, found {txt.type}")
            null = txt.is_null()
            if txt.null_count:
                if c.on_null == "error":
                    first = batch.row_start + int(np.flatnonzero(null.to_numpy(zero_copy_only=False))[0])
                    where = f"{batch.file}, row {first}" if batch.file else f"row {first}"
                    raise DataError(f"{where}: the text column {c.text!r} is null ({txt.null_count} in this batch); "
                                    "pass on_null='skip' to leave such rows out or 'empty' to read them as '' "
                                    "(--on-null)")
                txt = txt.fill_null("")
            out["null_text"] = null
            if self.need_tokens and not c.tokens:
                out["tokens"] = estimate_tokens(txt)
            if self.keep_text:
                out["text"] = txt.cast(pa.large_string())
        if c.tokens:
            out["tokens"] = column_floats(t.column(c.tokens), c.tokens)
        if group_col:
            g = t.column(group_col).combine_chunks()
            if g.null_count:
                raise DataError(f"column {group_col!r} has {g.null_count} empty (null) values; fill or drop them first")
            out["group"] = (g.dictionary_decode() if pa.types.is_dictionary(g.type) else g).cast(pa.string())
        for name in c.scores:
            out[f"score:{name}"] = column_floats(t.column(name), name)
        if c.vectors:
            vec = column_vectors(t.column(c.vectors), c.vectors)
            out["vectors"] = pa.FixedSizeListArray.from_arrays(pa.array(vec.ravel()), vec.shape[1])
        return pa.table(out)


def load_signals(data: Any, columns: Columns, *, keep_text: bool = False, need_tokens: bool = False,
                 batch_size: int = 65536, engine: Any = None) -> Signals:
    """Read the role columns of ``data`` in batches and return them as :class:`Signals`.

    Rows whose text is null follow ``columns.on_null``: ``skip`` (default) marks
    them in ``Signals.null_text`` so selectors and dedup leave them out with
    reason ``null_text``; ``empty`` reads them as ``""``; ``error`` stops, naming
    the file and row. Only the named columns are read; ``id`` and ``text`` default to columns so
    named when the input has them (recorded as ``columns_defaulted``). Text is kept in memory only when
    ``keep_text``; token counts come from ``columns.tokens`` or are estimated from
    the text when ``need_tokens``. ``engine`` is ``"local"`` (default), ``"ray"``
    or an engine object; both give the same signals in the same order.

    Examples
    --------
    >>> import pyarrow as pa
    >>> t = pa.table({"text": ["a b", "c"], "topic": ["x", "y"]})
    >>> s = load_signals(t, Columns(text="text", group="topic"), need_tokens=True)
    >>> s.group_names, s.tokens.tolist()
    (['x', 'y'], [1, 1])
    """
    from datadiet.engine._engines import get_engine

    source = open_source(data)
    columns, defaulted = columns.with_defaults(source.column_names)
    if need_tokens and not columns.tokens and not columns.text:
        raise DataError("a token budget needs token counts: name a --tokens column or a --text column to estimate them")
    check_on_null(columns.on_null)
    needed = list(columns.needed())
    source.check_columns(needed)
    read_cols = list(needed)  # the text is read even when not kept: its nulls decide which rows take part
    if not read_cols:
        read_cols = [source.column_names[0]]
    step = SignalStep(columns, read_cols, keep_text, need_tokens)
    table = get_engine(engine).run(source, step, batch_size=batch_size)
    if table.num_rows == 0:
        raise DataError(f"{source.name} has no rows: nothing to select from")
    ids = table.column("id").combine_chunks()
    try:
        check_unique(ids, columns.id)
    except DataError as e:
        if "id" not in defaulted:
            raise
        raise DataError(f"{e}; the input's column 'id' is used as the id column by default: rename it, or "
                        "pass id= (--id) with a column of unique values") from None
    kw: dict[str, Any] = {}
    if "tokens" in table.column_names:
        kw["tokens"] = table.column("tokens").to_numpy()
    if "group" in table.column_names:
        kw["groups"] = table.column("group")
    if columns.scores:
        kw["scores"] = {s: table.column(f"score:{s}").to_numpy() for s in columns.scores}
    if columns.vectors:
        vec = table.column("vectors").combine_chunks()
        kw["vectors"] = vec.flatten().to_numpy().reshape(len(vec), vec.type.list_size)
    if "text" in table.column_names:
        kw["text"] = table.column("text").combine_chunks()
    null_rows = 0
    if "null_text" in table.column_names:
        null = table.column("null_text").to_numpy()
        null_rows = int(null.sum())
    sig = Signals.from_arrays(ids, **kw)
    if null_rows and columns.on_null == "skip":
        sig.null_text = null
    sig.fingerprint = source.fingerprint()
    read = {**source.read_options(), "on_null": columns.on_null}
    if null_rows:
        read["null_text_rows"] = null_rows
    sig.origin = {"input": source.name if source.files else None, "columns": columns.as_dict(),
                  "columns_defaulted": defaulted or None, "read": read}
    return sig
