"""Embed a text column of a source into a cached, memory-mapped vector signal.

Rows are cut into fixed parts of ``batch_size`` rows; each encoded part is
written to ``<cache>/embedding-<hash>.parts/part-NNNNNN.npy`` as soon as it is
done, so an interrupted run resumes where it stopped. When all parts exist they
are joined into one ``.npy`` (written through a memory map, never held whole in
memory), the parts are removed, and later calls return the memory-mapped file.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from datadiet._core._errors import DataError, DataTypeError
from datadiet.io._atomic import atomic_path
from datadiet.io._read import Source, open_source
from datadiet.signals._cache import SignalCache
from datadiet.signals._encoders import Encoder, get_encoder
from datadiet.signals._table import check_on_null

__all__ = ["embed_source", "embedding_params", "load_embedding"]

SIGNAL = "embedding"


def embedding_params(model_name: str, text_column: str) -> dict[str, Any]:
    """Cache key of the embedding signal (read by the report and by ``select``)."""
    return {"model": model_name, "text": text_column}


def _row_parts(source: Source, column: str, size: int, on_null: str = "skip",
               stats: dict[str, int] | None = None) -> Iterator[pa.Array]:
    """The text column in consecutive parts of exactly ``size`` rows (the last may be shorter).

    Null texts are embedded as ``""`` (``on_null`` ``skip`` or ``empty``: one vector per row keeps
    the cache aligned; selections leave ``skip`` rows out as ``null_text``) or are an error.
    """
    pending: list[pa.Array] = []
    have = 0
    for batch in source.batches([column]):
        col = batch.table.column(column)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            raise DataTypeError(f"text column {column!r} must hold strings, found {col.type}")
        if col.null_count:
            if on_null == "error":
                first = batch.row_start + int(np.flatnonzero(col.is_null().to_numpy())[0])
                where = f"{batch.file}, row {first}" if batch.file else f"row {first}"
                raise DataError(f"{where}: the text column {column!r} is null; pass on_null='skip' to leave such "
                                "rows out or 'empty' to read them as '' (--on-null)")
            if stats is not None:
                stats["null_text_rows"] = stats.get("null_text_rows", 0) + col.null_count
            col = col.fill_null("")
        for chunk in col.chunks:
            pending.append(chunk.cast(pa.large_string()))
            have += len(chunk)
        while have >= size:
            joined = pa.concat_arrays(pending)
            yield joined.slice(0, size)
            rest = joined.slice(size)
            pending, have = ([rest], len(rest)) if len(rest) else ([], 0)
    if have:
        yield pa.concat_arrays(pending)


def _precomputed(source: Source, model: str) -> tuple[str, np.ndarray]:
    if model.startswith("column:"):
        from datadiet.io._columns import column_vectors

        col = model.split(":", 1)[1]
        source.check_columns([col])
        parts = [column_vectors(b.table.column(col), col) for b in source.batches([col])]
        vec = np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)
        return model, vec
    path = Path(model).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file of precomputed vectors")
    vec = np.load(path, mmap_mode="r")
    if vec.ndim != 2:
        raise DataError(f"{path} must hold a 2-D array (n, d); it has shape {vec.shape}")
    return str(path.resolve()), vec


def _model_name(model: str | Encoder) -> str:
    """The name an encoder for ``model`` will have, without loading a model."""
    from datadiet.signals._encoders import resolve_model

    if not isinstance(model, str):
        return model.name
    kind, folder = resolve_model(model)
    return str(folder) if folder is not None else get_encoder(model).name  # hashed: nothing to load


def load_embedding(source: Any, text_column: str, model: str, *, cache_dir: Any = None) -> np.ndarray | None:
    """The cached embedding of ``text_column`` by ``model``, or ``None`` (never computes)."""
    from datadiet.signals._encoders import resolve_model

    src = open_source(source)
    kind, folder = resolve_model(model)
    name = str(folder) if folder is not None else get_encoder(model).name
    return SignalCache(src, root=cache_dir).load_vectors(SIGNAL, embedding_params(name, text_column))


def embed_source(source: Any, text_column: str, model: str | Encoder, *, cache: bool = True,
                 batch_size: int = 1024, cache_dir: Any = None, on_null: str = "skip",
                 stats: dict[str, Any] | None = None) -> np.ndarray:
    """Encode ``text_column`` of ``source`` with ``model``; cached and resumable.

    Parameters
    ----------
    source : path, pyarrow Table, DataFrame or Source
    text_column : str
    model : str or Encoder
        An alias (``minilm``, ``static``, ``hashed``), a local model folder, an
        encoder object, or precomputed vectors: ``column:<name>`` (a list column)
        or a path to a ``.npy`` file with one row per example.
    cache : bool, default True
        Read and write the ``embedding`` signal (and per-part files while running).
    batch_size : int, default 1024
        Rows per encoded part (the unit of resumption).
    cache_dir : path, optional
        Cache root (default: beside the data, see :class:`SignalCache`).
    on_null : {"skip", "empty", "error"}, default "skip"
        Null texts are embedded as ``""`` (``skip``: selections then leave them out with
        reason ``null_text``; ``empty``: they take part) or stop with an error naming the row.
    stats : dict, optional
        Filled with ``null_text_rows`` (when any) and ``cached`` (whether the vectors were reused).

    Returns
    -------
    ndarray of float32, shape (n, d): memory-mapped when cached.

    Examples
    --------
    >>> import pyarrow as pa
    >>> v = embed_source(pa.table({"t": ["a cat", "a dog", "stocks"]}), "t", "hashed:16", cache=False)
    >>> v.shape
    (3, 16)
    """
    from datadiet._core._progress import progress
    from datadiet.io._columns import total_rows

    src = open_source(source)
    check_on_null(on_null)
    stats = stats if stats is not None else {}
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise DataError(f"batch_size must be a positive integer; got {batch_size!r}")
    if isinstance(model, str) and (model.startswith("column:") or model.endswith(".npy")):
        _, vec = _precomputed(src, model)
        n = total_rows(src)
        if n is not None and n != vec.shape[0]:
            raise DataError(f"{model} has {vec.shape[0]} vectors but {src.name} has {n} rows")
        return vec
    src.check_columns([text_column])
    store = SignalCache(src, root=cache_dir) if cache else None
    # the cache key needs only the model's name: a cached embedding is returned before any model is
    # loaded or any hashed IDF / SVD is fitted (seconds per call otherwise)
    final = store.path(SIGNAL, embedding_params(_model_name(model), text_column), ".npy") \
        if store is not None else None
    if final is not None and final.exists():
        stats["cached"] = True
        return np.load(final, mmap_mode="r")
    stats["cached"] = False
    encoder = get_encoder(model) if isinstance(model, str) else model
    if hasattr(encoder, "fit") and getattr(encoder, "idf", 1) is None:
        encoder.fit(part for part in _row_parts(src, text_column, 65536, on_null))
    params = embedding_params(encoder.name, text_column)
    parts_dir = final.with_suffix(".parts") if final is not None else None
    if parts_dir is not None:
        parts_dir.mkdir(parents=True, exist_ok=True)
    in_memory: list[np.ndarray] = []
    part_files: list[Path] = []
    t0 = time.perf_counter()
    n = 0
    with progress(f"embedding {text_column} ({Path(encoder.name).name})", total_rows(src)) as bar:
        for i, texts in enumerate(_row_parts(src, text_column, batch_size, on_null, stats)):
            n += len(texts)
            pfile = parts_dir / f"part-{i:06d}.npy" if parts_dir is not None else None
            if pfile is not None and pfile.exists():
                part_files.append(pfile)
                bar.advance(len(texts))
                continue
            vec = np.ascontiguousarray(encoder.encode(texts.to_pylist()), dtype=np.float32)
            if vec.shape != (len(texts), encoder.dim):
                raise DataError(f"encoder {encoder.name} returned shape {vec.shape} for {len(texts)} texts")
            if pfile is not None:
                with atomic_path(pfile) as tmp, open(tmp, "wb") as f:
                    np.save(f, vec)
                part_files.append(pfile)
            else:
                in_memory.append(vec)
            bar.advance(len(texts))
    if n == 0:
        raise DataError(f"{src.name} has no rows to embed")
    if final is None or store is None:
        return np.concatenate(in_memory)
    with atomic_path(final) as tmp:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, encoder.dim))
        row = 0
        for p in part_files:
            block = np.load(p, mmap_mode="r")
            out[row:row + len(block)] = block
            row += len(block)
        out.flush()
        del out
    store._describe(SIGNAL, params, final, shape=[n, encoder.dim], dtype="float32",
                    seconds=round(time.perf_counter() - t0, 3))
    if parts_dir is not None:
        shutil.rmtree(parts_dir, ignore_errors=True)
    return np.load(final, mmap_mode="r")
