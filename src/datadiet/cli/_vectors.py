"""Vectors for the embedding methods: from ``--vectors COL``, from ``--model`` (embedding ``--text``,
cached as the ``embedding`` signal), or from a cached embedding of ``--text``; plus a stored
``cluster`` signal (``datadiet cluster``) when there is one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import click
import numpy as np

from datadiet._core._errors import DataError
from datadiet.engine import load_signals
from datadiet.io import Source
from datadiet.signals import ClusterSignal, Columns, SignalCache, Signals

__all__ = ["signals_with_vectors", "vectors_for", "vector_options"]

MODEL_HELP = ("Embedding model for --text: minilm, static, hashed[:DIM], a local sentence-transformers "
              "or model2vec folder, or a .npy of precomputed vectors (cached as the 'embedding' signal).")


def vectors_for(source: Source, columns: Columns, model: str | None, *, batch_size: int = 1024,
                cache_dir: Any = None, engine: Any = "local") -> tuple[np.ndarray, dict[str, Any]]:
    """Vectors from ``--vectors``, ``--model`` (embedding ``--text``) or a cached embedding of ``--text``.

    On the Ray engine, ``--model`` embeds on an actor pool (the model loaded once per actor) and
    ``--vectors`` is read by Ray tasks.
    """
    on_ray = engine not in (None, "local")
    from datadiet.signals import embed_source

    if columns.vectors:
        if model:
            raise DataError("give either --vectors or --model, not both")
        if on_ray:
            sig = load_signals(source, Columns(vectors=columns.vectors), engine=engine)
            assert sig.vectors is not None
            return sig.vectors, {"vectors": columns.vectors}
        return embed_source(source, "", f"column:{columns.vectors}"), {"vectors": columns.vectors}
    if model:
        if model.endswith(".npy"):
            return embed_source(source, columns.text or "", model), {"vectors": model}
        if not columns.text:
            raise DataError("--model embeds a text column: name it with --text COL")
        if on_ray:
            from datadiet.engine import embed_on_engine

            vec = embed_on_engine(source, columns.text, model, engine, cache_dir=cache_dir, on_null=columns.on_null)
        else:
            vec = embed_source(source, columns.text, model, batch_size=batch_size, cache_dir=cache_dir,
                               on_null=columns.on_null)
        return vec, {"model": model, "text": columns.text}
    if columns.text:
        found = [e for e in SignalCache(source, root=cache_dir).entries()
                 if e.get("name") == "embedding" and e.get("params", {}).get("text") == columns.text]
        if len(found) == 1:
            cached = SignalCache(source, root=cache_dir).load_vectors("embedding", found[0]["params"])
            if cached is not None:
                return cached, dict(found[0]["params"])
        if len(found) > 1:
            models = ", ".join(str(e["params"].get("model")) for e in found)
            raise DataError(f"several cached embeddings of {columns.text!r} ({models}); pick one with --model")
    raise DataError("this method needs vectors: name a column with --vectors COL, or embed a text column "
                     "with --text COL --model MODEL (minilm, static, hashed or a local folder)")


def signals_with_vectors(source: Source, columns: Columns, model: str | None, batch_size: int | None = None,
                         engine: Any = "local") -> tuple[Signals, dict[str, Any]]:
    """The signals of ``source`` with their vectors, and where the vectors came from."""
    vec, how = vectors_for(source, columns, model, batch_size=batch_size or 1024, engine=engine)
    sig = load_signals(source, replace(columns, vectors=None), engine=engine)
    if vec.shape[0] != len(sig):
        raise DataError(f"the vectors have {vec.shape[0]} rows but the input has {len(sig)}; "
                        "re-embed with datadiet embed")
    sig.vectors = vec
    sig.clusters = _stored_clusters(source, how)
    return sig, how


def _stored_clusters(source: Source, how: dict[str, Any]) -> ClusterSignal | None:
    """The newest ``cluster`` signal made from the same vectors, if any."""
    cache = SignalCache(source)
    found = [e for e in cache.entries() if e.get("name") == "cluster"
             and all(e.get("params", {}).get(k) == v for k, v in how.items())]
    if not found:
        return None
    params = found[-1]["params"]
    table = cache.load_table("cluster", params)
    centroids = cache.load_vectors("cluster-centroids", params)
    if table is None or centroids is None:
        return None
    return ClusterSignal(table.column("cluster").to_numpy().astype(np.int64),
                         table.column("distance").to_numpy(), np.asarray(centroids), dict(params))


def vector_options() -> list[click.Option]:
    """``--model`` and ``--embed-batch-size``: the options of every method that needs vectors."""
    return [click.Option(["--model"], metavar="MODEL", help=MODEL_HELP),
            click.Option(["--embed-batch-size"], type=click.IntRange(min=1), default=1024, show_default=True,
                         help="Rows per embedded (and resumable) part when --model embeds --text.")]


