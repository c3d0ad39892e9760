"""Signal cache: computed signals stored next to the data, keyed by input fingerprint and parameters.

Layout::

    <data folder>/.datadiet/<input fingerprint>/<name>-<params hash>.npy      # vectors (memory-mapped)
    <data folder>/.datadiet/<input fingerprint>/<name>-<params hash>.parquet  # scalar columns
    <data folder>/.datadiet/<input fingerprint>/<name>-<params hash>.json     # what it is

The base folder is ``$DATADIET_CACHE_DIR`` when set, else ``.datadiet`` beside
the input (or ``~/.cache/datadiet`` when that is not writable). In-memory inputs
are cached only when a folder is given.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from datadiet.io._atomic import atomic_path
from datadiet.io._read import Source

__all__ = ["SignalCache"]


def _params_hash(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:12]


class SignalCache:
    """Where the signals of one input live.

    Examples
    --------
    >>> import tempfile, numpy as np, pyarrow as pa
    >>> from datadiet.io import open_source
    >>> cache = SignalCache(open_source(pa.table({"t": ["a"]})), root=tempfile.mkdtemp())
    >>> _ = cache.save_vectors("emb", {"model": "x"}, np.ones((1, 2), np.float32))
    >>> cache.load_vectors("emb", {"model": "x"}).shape
    (1, 2)
    """

    def __init__(self, source: Source, root: str | os.PathLike[str] | None = None) -> None:
        self.source = source
        self.dir: Path | None = None
        base: Path | None
        if root is not None:
            base = Path(root)
        elif os.environ.get("DATADIET_CACHE_DIR"):
            base = Path(os.environ["DATADIET_CACHE_DIR"])
        elif source.files:
            anchor = source.root if source.root is not None and source.root.is_dir() else source.files[0].parent
            base = anchor / ".datadiet"
            if not os.access(anchor, os.W_OK):
                base = Path.home() / ".cache" / "datadiet"
        else:
            base = None
        if base is not None:
            self.dir = base / source.fingerprint()

    @property
    def enabled(self) -> bool:
        return self.dir is not None

    def path(self, name: str, params: dict[str, Any], suffix: str) -> Path | None:
        if self.dir is None:
            return None
        return self.dir / f"{name}-{_params_hash(params)}{suffix}"

    def _describe(self, name: str, params: dict[str, Any], path: Path, **info: Any) -> None:
        meta = {"name": name, "params": params, "file": path.name, **info}
        mpath = path.with_suffix(".json")
        with atomic_path(mpath) as tmp:
            tmp.write_text(json.dumps(meta, indent=2, default=str))

    def load_vectors(self, name: str, params: dict[str, Any]) -> np.ndarray | None:
        """The cached array (memory-mapped, read-only), or ``None``."""
        p = self.path(name, params, ".npy")
        if p is None or not p.exists():
            return None
        return np.load(p, mmap_mode="r")

    def save_vectors(self, name: str, params: dict[str, Any], array: np.ndarray) -> Path | None:
        p = self.path(name, params, ".npy")
        if p is None:
            return None
        p.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(p) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, np.ascontiguousarray(array))
        self._describe(name, params, p, shape=list(array.shape), dtype=str(array.dtype))
        return p

    def load_table(self, name: str, params: dict[str, Any]) -> pa.Table | None:
        p = self.path(name, params, ".parquet")
        if p is None or not p.exists():
            return None
        return pq.read_table(p)

    def save_table(self, name: str, params: dict[str, Any], table: pa.Table) -> Path | None:
        p = self.path(name, params, ".parquet")
        if p is None:
            return None
        p.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(p) as tmp:
            pq.write_table(table, tmp)
        self._describe(name, params, p, rows=table.num_rows, columns=table.column_names)
        return p

    def entries(self) -> list[dict[str, Any]]:
        """Descriptions of every cached signal of this input."""
        if self.dir is None or not self.dir.exists():
            return []
        out = []
        for meta in sorted(self.dir.glob("*.json")):
            try:
                d = json.loads(meta.read_text())
            except json.JSONDecodeError:
                continue
            data = meta.with_name(d.get("file", ""))
            if data.exists():
                d["bytes"] = data.stat().st_size
                out.append(d)
        return out
