"""Embedding as a step: an actor pool where each actor loads the model once (``setup``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from datadiet._core._errors import DataError, DataTypeError
from datadiet.engine._step import Step
from datadiet.io._read import Batch, open_source

__all__ = ["EmbedStep", "embed_on_engine"]


class EmbedStep(Step):
    """Per row: the text's embedding (unit-length float32).

    ``model`` is a name (alias or local folder, loaded in :meth:`setup`, once per
    worker) or an encoder object shipped as is (a fitted hashed encoder).
    """

    def __init__(self, text: str, model: Any, encode_batch: int = 1024, on_null: str = "error") -> None:
        self.text = text
        self.on_null = on_null
        self.model = model
        self.encode_batch = encode_batch
        self.columns = [text]
        self.encoder: Any = None

    def setup(self) -> None:
        from datadiet.signals._encoders import get_encoder

        self.encoder = get_encoder(self.model) if isinstance(self.model, str) else self.model

    def process_batch(self, batch: Batch) -> pa.Table:
        col = batch.table.column(self.text)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            raise DataTypeError(f"text column {self.text!r} must hold strings, found {col.type}")
        if col.null_count and self.on_null == "error":
            raise DataError(f"text column {self.text!r} has {col.null_count} empty (null) values; fill or drop them "
                            "first, or pass on_null='skip' (--on-null skip)")
        if col.null_count:  # embedded as '' like embed_source; 'skip' leaves them out of selections later
            col = col.fill_null("")
        texts = col.to_pylist()
        parts = [np.ascontiguousarray(self.encoder.encode(texts[i:i + self.encode_batch]), dtype=np.float32)
                 for i in range(0, len(texts), self.encode_batch)]
        vec = np.concatenate(parts) if parts else np.zeros((0, self.encoder.dim), np.float32)
        return pa.table({"vector": pa.FixedSizeListArray.from_arrays(pa.array(vec.ravel()), self.encoder.dim)})

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["encoder"] = None  # a loaded model never travels: each worker loads its own
        return state


def embed_on_engine(source: Any, text: str, model: str, engine: Any, *, cache: bool = True,
                    batch_size: int = 65536, cache_dir: Any = None, on_null: str = "error") -> np.ndarray:
    """Embed ``source``'s ``text`` with ``model`` on ``engine``; cached as the ``embedding`` signal.

    The result is the same as :func:`datadiet.signals.embed_source` (same cache key, so
    later commands find it); a finished embedding in the cache is returned as is. Null texts
    stop with an error (``on_null="error"``) or are embedded as ``""`` (``"skip"``, ``"empty"``),
    as ``embed_source`` does; :func:`~datadiet.engine.load_signals` marks them for ``skip``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from datadiet.engine import LocalEngine
    >>> embed_on_engine(pa.table({"t": ["a cat", "a dog"]}), "t", "hashed:16", LocalEngine(), cache=False).shape
    (2, 16)
    """
    from datadiet.engine._engines import get_engine
    from datadiet.signals._cache import SignalCache
    from datadiet.signals._embed import SIGNAL, embedding_params
    from datadiet.signals._encoders import get_encoder, resolve_model

    src = open_source(source)
    src.check_columns([text])
    kind, folder = resolve_model(model)
    shipped: Any = model
    if kind == "hashed":  # cheap to build; its IDF is a global statistic, fitted here in one streaming pass
        enc = get_encoder(model)
        if hasattr(enc, "fit") and getattr(enc, "idf", 1) is None:
            enc.fit(b.table.column(text).combine_chunks() for b in src.batches([text]))
        shipped, name = enc, enc.name
    else:
        name = str(folder)
    store = SignalCache(src, root=cache_dir) if cache else None
    params = embedding_params(name, text)
    if store is not None and store.enabled:
        hit = store.load_vectors(SIGNAL, params)
        if hit is not None:
            return hit
    step = EmbedStep(text, shipped, on_null=on_null)
    out = get_engine(engine).run(src, step, batch_size=batch_size, description="embedding")
    if out.num_rows == 0:
        raise DataError(f"{src.name} has no rows to embed")
    col = out.column("vector").combine_chunks()
    vec = np.ascontiguousarray(col.flatten().to_numpy().reshape(len(col), col.type.list_size), dtype=np.float32)
    if store is not None and store.enabled:
        store.save_vectors(SIGNAL, params, vec)
        return store.load_vectors(SIGNAL, params)  # type: ignore[return-value]
    return vec
