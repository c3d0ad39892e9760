"""Local engine: stream a source once and gather the small per-example signals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datadiet.engine._progress import progress
from datadiet.io._ids import batch_ids, check_unique
from datadiet.io._read import Batch, Source, open_source
from datadiet.signals._table import Columns, Signals
from datadiet.signals._tokens import estimate_tokens

__all__ = ["load_signals", "for_each_batch", "total_rows"]


def total_rows(source: Source) -> int | None:
    """Row count when it is cheap to know (tables and Parquet), else ``None``."""
    if source.table is not None:
        return source.table.num_rows
    import pyarrow.parquet as pq

    if all(f.suffix.lower() in (".parquet", ".pq") for f in source.files):
        return sum(pq.ParquetFile(f).metadata.num_rows for f in source.files)
    return None


def for_each_batch(source: Source, columns: list[str], fn: Callable[[Batch], Any],
                   description: str = "reading", batch_size: int = 65536) -> list[Any]:
    """Run ``fn`` on every batch (with a progress bar) and return the results in order."""
    out = []
    with progress(description, total_rows(source)) as bar:
        for batch in source.batches(columns, batch_size):
            out.append(fn(batch))
            bar.advance(batch.table.num_rows)
    return out


def _to_float(col: pa.ChunkedArray, name: str) -> np.ndarray:
    if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_boolean(col.type)):
        raise TypeError(f"column {name!r} must hold numbers, found {col.type}")
    if col.null_count:
        raise ValueError(f"column {name!r} has {col.null_count} empty (null) values; fill or drop them first")
    return col.to_numpy().astype(np.float64)


def _to_vectors(col: pa.ChunkedArray, name: str) -> np.ndarray:
    t = col.type
    if not (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)):
        raise TypeError(f"column {name!r} must hold lists of floats (vectors), found {t}")
    arr = col.combine_chunks()
    if arr.null_count:
        raise ValueError(f"column {name!r} has {arr.null_count} empty (null) vectors")
    lengths = pc.list_value_length(arr).to_numpy(zero_copy_only=False)
    if len(lengths) and (lengths != lengths[0]).any():
        raise ValueError(f"column {name!r} holds vectors of different lengths ({lengths.min()}..{lengths.max()})")
    flat = pc.list_flatten(arr).to_numpy(zero_copy_only=False).astype(np.float32)
    d = int(lengths[0]) if len(lengths) else 0
    return flat.reshape(len(arr), d)


def load_signals(data: Any, columns: Columns, *, keep_text: bool = False, need_tokens: bool = False,
                 batch_size: int = 65536) -> Signals:
    """Read the role columns of ``data`` in batches and return them as :class:`Signals`.

    Only the named columns are read. Text is kept in memory only when
    ``keep_text``; token counts come from ``columns.tokens`` or are estimated from
    the text when ``need_tokens``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> t = pa.table({"text": ["a b", "c"], "topic": ["x", "y"]})
    >>> s = load_signals(t, Columns(text="text", group="topic"), need_tokens=True)
    >>> s.group_names, s.tokens.tolist()
    (['x', 'y'], [1, 1])
    """
    source = open_source(data)
    group_col = columns.group or columns.label
    if need_tokens and not columns.tokens and not columns.text:
        raise ValueError("a token budget needs token counts: name a --tokens column or a --text column to estimate them")
    needed = list(columns.needed())
    source.check_columns(needed)
    read_cols = [c for c in needed if c != columns.text or keep_text or (need_tokens and not columns.tokens)]
    if not read_cols:
        read_cols = [source.column_names[0]]

    def step(batch: Batch) -> dict[str, Any]:
        t = batch.table
        part: dict[str, Any] = {"ids": batch_ids(t, columns.id, batch.file, batch.row_start)}
        if columns.text and columns.text in t.column_names:
            txt = t.column(columns.text)
            if not (pa.types.is_string(txt.type) or pa.types.is_large_string(txt.type)):
                raise TypeError(f"text column {columns.text!r} must hold strings, found {txt.type}")
            if need_tokens and not columns.tokens:
                part["tokens"] = estimate_tokens(txt.combine_chunks())
            if keep_text:
                part["text"] = txt.combine_chunks().cast(pa.large_string())
        if columns.tokens:
            part["tokens"] = _to_float(t.column(columns.tokens), columns.tokens)
        if group_col:
            g = t.column(group_col).combine_chunks()
            if g.null_count:
                raise ValueError(f"column {group_col!r} has {g.null_count} empty (null) values; fill or drop them first")
            part["groups"] = g.cast(pa.string()) if not pa.types.is_dictionary(g.type) else g.dictionary_decode().cast(pa.string())
        part["scores"] = {s: _to_float(t.column(s), s) for s in columns.scores}
        if columns.vectors:
            part["vectors"] = _to_vectors(t.column(columns.vectors), columns.vectors)
        return part

    parts = for_each_batch(source, read_cols, step, batch_size=batch_size)
    if not parts or sum(len(p["ids"]) for p in parts) == 0:
        raise ValueError(f"{source.name} has no rows: nothing to select from")
    ids = pa.concat_arrays([p["ids"] for p in parts])
    check_unique(ids, columns.id)
    kw: dict[str, Any] = {}
    if "tokens" in parts[0]:
        kw["tokens"] = np.concatenate([p["tokens"] for p in parts])
    if group_col:
        kw["groups"] = pa.chunked_array([p["groups"] for p in parts])
    if columns.scores:
        kw["scores"] = {s: np.concatenate([p["scores"][s] for p in parts]) for s in columns.scores}
    if columns.vectors:
        kw["vectors"] = np.concatenate([p["vectors"] for p in parts])
    if keep_text and columns.text:
        kw["text"] = pa.concat_arrays([p["text"] for p in parts])
    sig = Signals.from_arrays(ids, **kw)
    sig.extra["fingerprint"] = source.fingerprint()
    return sig
