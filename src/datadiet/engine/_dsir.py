"""DSIR over files: stream the pool through the hashed n-gram cache, never loading it at once."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from datadiet._core import resolve_seed
from datadiet._core._errors import DataError, DataTypeError
from datadiet.io._ids import check_unique
from datadiet.io._read import open_source
from datadiet.io._selection import Selection
from datadiet.select._dsir import (
    DSIRSelector,
    TargetCounts,
    _picked,
    count_target,
    is_texts,
    run_dsir,
    target_items,
)
from datadiet.signals._ngrams import DEFAULT_BUCKETS, NgramBatch, iter_ngrams
from datadiet.signals._table import Columns, check_on_null

__all__ = ["dsir_select", "target_counts"]


def target_text_columns(text: Any, names: list[str]) -> list[str]:
    """The text column of each named target.

    ``text`` is one column for every target, ``"COL1,COL2,..."`` or a sequence with one
    column per target in order, or a mapping target name -> column.

    Examples
    --------
    >>> target_text_columns("body", ["a", "b"]), target_text_columns("title,body", ["a", "b"])
    (['body', 'body'], ['title', 'body'])
    """
    if isinstance(text, Mapping):
        missing = [n for n in names if n not in text]
        if missing:
            raise DataError(f"target_text names no column for target(s) {', '.join(map(repr, missing))}; "
                            f"give one column per target: {', '.join(map(repr, names))}")
        return [str(text[n]) for n in names]
    cols = [c.strip() for c in text.split(",")] if isinstance(text, str) else [str(c) for c in text]
    if len(cols) == 1:
        return cols * len(names)
    if len(cols) != len(names):
        raise DataError(f"--target-text lists {len(cols)} columns but there are {len(names)} targets; "
                        "give one column for all targets or one per --target, in order (COL1,COL2,...)")
    return cols


def target_counts(target: Any, text: Any = "text", *, buckets: int = DEFAULT_BUCKETS, n_jobs: int = 1,
                  cache: Any = False) -> TargetCounts:
    """Hashed n-gram counts of each target, streamed from disk.

    ``target`` is a dataset (anything :func:`~datadiet.io.open_source` reads), a
    sequence of texts, or a mapping name -> either. ``text`` names the text column of
    target datasets: one for all, or one per target (see :func:`target_text_columns`).
    """
    names, rows = [], []
    items = target_items(target)
    texts = target_text_columns(text, [n for n, _ in items])
    for (name, t), text in zip(items, texts, strict=True):
        what = "the target" if name == "target" else f"target {name!r}"
        if is_texts(t):
            col = "text"
            src = open_source(pa.table({col: pa.array(list(t), pa.large_string())}), name=what)
        elif isinstance(t, str) and not any(ch in t for ch in "/\\.*?[") and len(t.split()) > 1:
            raise DataTypeError(f"{what} looks like a text, not a dataset path; pass a list of texts")
        else:
            col = text
            src = open_source(t, name=what, role="target")
            src.check_columns([text])
        batches = (nb for _ids, nb in iter_ngrams(src, col, buckets=buckets, cache=cache, n_jobs=n_jobs, what=what))
        rows.append(count_target(name, batches, buckets, col))
        names.append(name)
    return TargetCounts(names, np.stack(rows), [int(r.sum()) for r in rows])


def _null_rows(src: Any, columns: Columns) -> np.ndarray | None:
    """Rows whose text is null (``None`` when there are none or ``on_null="empty"``); raises for ``"error"``."""
    check_on_null(columns.on_null)
    if columns.on_null == "empty":
        return None
    assert columns.text is not None
    parts = []
    for b in src.batches([columns.text]):
        col = b.table.column(columns.text)
        if col.null_count and columns.on_null == "error":
            first = b.row_start + int(np.flatnonzero(col.is_null().to_numpy())[0])
            where = f"{b.file}, row {first}" if b.file else f"row {first}"
            raise DataError(f"{where}: the text column {columns.text!r} is null; pass on_null='skip' to leave "
                            "such rows out or 'empty' to read them as '' (--on-null)")
        parts.append(col.is_null().to_numpy())
    null = np.concatenate(parts) if parts else np.zeros(0, bool)
    return null if null.any() else None


def dsir_select(pool: Any, target: Any, columns: Columns, *, budget: Any = None, mode: str = "resample",
                sampling: str = "gumbel", buckets: int = DEFAULT_BUCKETS, target_text: Any = None,
                proportions: Any = None, smoothing: float = 1.0, clip: float | None = 20.0,
                seed: int | np.random.Generator | None = 0, allow_all: bool = False, n_jobs: int = 1,
                cache: Any = True, batch_size: int = 65536, engine: Any = None) -> Selection:
    """DSIR selection of ``pool`` toward ``target``, streaming in bounded memory.

    Pass 1 featurises the pool's text column once (hashed unigrams + bigrams,
    written to the signal cache beside the data) and counts n-grams; pass 2
    reads the cache and computes each row's log importance weight; pass 3
    measures the KL reduction of the selection. Memory holds one batch per
    worker plus a few numbers per row.

    Parameters
    ----------
    pool : path, folder, glob, table...
        Anything :func:`datadiet.io.open_source` reads.
    target : dataset, sequence of str, or mapping name -> either
        See :class:`datadiet.select.DSIRSelector`.
    columns : Columns
        ``text`` (required), ``id`` and ``tokens`` of the pool.
    target_text : str, sequence of str or mapping, optional
        Text column of target datasets (default: ``columns.text``): one for all targets,
        ``"COL1,COL2"`` or a sequence with one per target, or a mapping target name -> column.
    cache : bool or SignalCache, default True
    n_jobs : int, default 1
        Featurising threads.
    engine : None, "local", "ray" or an engine object
        ``None`` / ``"local"``: this process, through the n-gram cache. Otherwise
        the passes run as map -> reduce stages on the engine (per-block counts,
        per-block weights and top-k candidates, per-block subset counts; see
        :mod:`datadiet.engine._dsir_stages`): the same selection for the same seed.
    Other parameters as in :class:`datadiet.select.DSIRSelector`.

    Returns
    -------
    Selection
        Method ``dsir``; a ``log_weight`` column; metrics with ``kl_reduction``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> pool = pa.table({"text": ["a late goal in the match", "stocks fell", "the keeper saved it", "rates rose"]})
    >>> sel = dsir_select(pool, ["a late goal won the match"], Columns(text="text"), budget=1,
    ...                   sampling="topk", buckets=100, cache=False)
    >>> sel.indices.tolist()
    [0]
    """
    src = open_source(pool)
    columns, defaulted = columns.with_defaults(src.column_names)
    spec = DSIRSelector(target=target, budget=budget, mode=mode, sampling=sampling, buckets=buckets,
                        target_text=target_text or columns.text or "text", proportions=proportions,
                        smoothing=smoothing, clip=clip, seed=seed, allow_all=allow_all, n_jobs=n_jobs)
    spec.validate_params()
    if not columns.text:
        raise DataError("DSIR needs the pool's text column (Columns(text=...), --text on the command line)")
    seed_ = resolve_seed(seed)
    src.check_columns([columns.text, columns.id, columns.tokens])
    null = _null_rows(src, columns)  # before the expensive passes, so on_null="error" fails fast

    def stream() -> Iterator[tuple[pa.Array, NgramBatch]]:
        assert columns.text is not None
        return iter_ngrams(src, columns.text, id_column=columns.id, buckets=int(buckets), cache=cache,
                           n_jobs=n_jobs, batch_size=batch_size, what=src.name)

    tokens = None
    if columns.tokens:
        from datadiet.io._columns import column_floats

        parts = [column_floats(b.table.column(columns.tokens), columns.tokens) for b in src.batches([columns.tokens])]
        tokens = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
    targets = target_counts(target, target_text or columns.text, buckets=int(buckets), n_jobs=n_jobs)
    opts = dict(budget=budget, mode=mode, sampling=sampling, buckets=int(buckets), proportions=proportions,
                smoothing=smoothing, clip=clip, seed=seed_, allow_all=allow_all, tokens=tokens)
    if engine is None or engine == "local":
        res = run_dsir(stream, targets, **opts)  # type: ignore[arg-type]
    else:
        from datadiet.engine._dsir_stages import run_dsir_stages
        from datadiet.engine._engines import get_engine

        res = run_dsir_stages(get_engine(engine), src, columns.text, columns.id, targets, batch_size=batch_size,
                              **opts)  # type: ignore[arg-type]
    check_unique(res.ids, columns.id)
    p = _picked(res)
    sel = Selection.from_indices(
        res.ids, p.indices, weights=p.weights, drop_reason=p.drop_reason, reason_names=p.reason_names,
        method="dsir", seed=seed_, metrics=p.metrics, params={**spec.manifest_params(), "seed": seed_},
    )
    sel.extra.update(p.extra)
    if null is not None:  # null texts were read as "": tell them apart from really empty ones
        sel.reason_names = [*sel.reason_names, "null_text"]
        sel.reason[null & ~sel.kept] = len(sel.reason_names) - 1
    if src.files:
        sel.info["input"] = src.name
    sel.info.update({"input_fingerprint": src.fingerprint(), "columns": columns.as_dict(),
                     "read": {**src.read_options(), "on_null": columns.on_null}})
    if null is not None:
        sel.info["read"]["null_text_rows"] = int(null.sum())
    if defaulted:
        sel.info["columns_defaulted"] = defaulted
    if tokens is not None:
        sel.metrics["tokens_kept"] = int((tokens * sel.repeats).sum())
        sel.metrics["tokens_input"] = int(tokens.sum())
    return sel
