"""The selection: one row per input example, kept or dropped with a reason."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from datadiet._core._errors import DataError
from datadiet.io._atomic import atomic_path, check_output_path

__all__ = ["Selection", "manifest_path", "read_selection", "SELECTION_COLUMNS"]

#: The columns every selection file has (methods add their own, e.g. ``duplicate_of``).
SELECTION_COLUMNS = ("id", "kept", "weight", "repeats", "reason")


def read_selection(path: str | os.PathLike[str]) -> tuple[pa.Table, dict[str, Any]]:
    """The selection table and its manifest (``{}`` when the manifest is missing), checked."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"selection {p} does not exist")
    if p.is_dir():
        raise IsADirectoryError(f"selection {p} is a directory; give the .parquet file a select command wrote")
    try:
        table = pq.read_table(p)
    except (pa.ArrowInvalid, OSError) as e:
        raise DataError(f"{p} is not a readable Parquet selection: {e}") from None
    missing = [c for c in SELECTION_COLUMNS if c not in table.column_names]
    if missing:
        raise DataError(f"{p} is not a datadiet selection: columns {missing} are missing "
                        f"(it has {table.column_names}); give a file written by datadiet select")
    mpath = manifest_path(p)
    manifest: dict[str, Any] = {}
    if mpath.exists():
        try:
            manifest = json.loads(mpath.read_text())
        except json.JSONDecodeError as e:
            raise DataError(f"manifest {mpath} is not valid JSON ({e.msg} at line {e.lineno}); "
                            "rewrite it with datadiet select --overwrite") from None
        if not isinstance(manifest, dict):
            raise DataError(f"manifest {mpath} must hold a JSON object")
    return table, manifest


def manifest_path(path: str | os.PathLike[str]) -> Path:
    """The manifest that sits beside a selection file: ``sel.parquet`` -> ``sel.manifest.json``."""
    p = Path(path)
    return p.with_name(p.name[: -len(p.suffix)] if p.suffix else p.name).with_suffix(".manifest.json")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


@dataclass
class Selection:
    """Which examples are kept, how often and with what weight, and why the rest were dropped.

    Arrays are aligned with the input rows. ``reason`` is an integer code into
    ``reason_names`` (``-1`` for kept rows).

    Examples
    --------
    >>> import numpy as np
    >>> s = Selection.from_indices(ids=np.arange(5), indices=[0, 3], method="manual")
    >>> s.counts()
    {'kept': 2, 'not_sampled': 3}
    """

    ids: pa.Array
    kept: np.ndarray
    weight: np.ndarray
    repeats: np.ndarray
    reason: np.ndarray
    reason_names: list[str]
    extra: dict[str, np.ndarray | pa.Array] = field(default_factory=dict)
    method: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_indices(
        cls,
        ids: object,
        indices: object,
        *,
        repeats: object | None = None,
        weights: object | None = None,
        drop_reason: str | np.ndarray = "not_sampled",
        reason_names: list[str] | None = None,
        **meta: Any,
    ) -> Selection:
        """Build a selection from kept positions (and optional per-kept repeats / weights).

        ``drop_reason`` is one code for every dropped row, or an integer array of
        codes into ``reason_names`` aligned with the input.
        """
        id_arr = ids if isinstance(ids, (pa.Array, pa.ChunkedArray)) else pa.array(np.asarray(ids))
        if isinstance(id_arr, pa.ChunkedArray):
            id_arr = id_arr.combine_chunks()
        n = len(id_arr)
        idx = np.asarray(indices, dtype=np.int64)
        kept = np.zeros(n, dtype=bool)
        kept[idx] = True
        rep = np.zeros(n, dtype=np.int64)
        rep[idx] = 1 if repeats is None else np.asarray(repeats, dtype=np.int64)
        w = np.zeros(n, dtype=np.float64)
        w[idx] = 1.0 if weights is None else np.asarray(weights, dtype=np.float64)
        if isinstance(drop_reason, str):
            names = [drop_reason]
            reason = np.where(kept, -1, 0).astype(np.int8)
        else:
            names = list(reason_names or [])
            reason = np.where(kept, -1, np.asarray(drop_reason)).astype(np.int8)
        return cls(id_arr, kept, w, rep, reason, names, **meta)

    def __len__(self) -> int:
        return len(self.kept)

    def expand(self, ids: Any, rows: Any, reason: str) -> Selection:
        """This selection, made from the rows ``rows`` of a larger input with ``ids``, over all of it.

        The other rows are dropped with ``reason`` (e.g. ``null_text``); method columns
        are null for them.

        Examples
        --------
        >>> s = Selection.from_indices(ids=[10, 30], indices=[1], method="manual")
        >>> full = s.expand([10, 20, 30], [0, 2], "null_text")
        >>> full.counts(), full.kept.tolist()
        ({'kept': 1, 'not_sampled': 1, 'null_text': 1}, [False, False, True])
        """
        id_arr = ids if isinstance(ids, (pa.Array, pa.ChunkedArray)) else pa.array(np.asarray(ids))
        if isinstance(id_arr, pa.ChunkedArray):
            id_arr = id_arr.combine_chunks()
        n = len(id_arr)
        rows = np.asarray(rows, dtype=np.int64)
        kept = np.zeros(n, dtype=bool)
        kept[rows] = self.kept
        weight = np.zeros(n, dtype=np.float64)
        weight[rows] = self.weight
        repeats = np.zeros(n, dtype=np.int64)
        repeats[rows] = self.repeats
        names = list(self.reason_names)
        if reason not in names:
            names.append(reason)
        code = np.full(n, names.index(reason), dtype=np.int8)
        code[rows] = self.reason
        pos = np.full(n, -1, dtype=np.int64)
        pos[rows] = np.arange(len(rows))
        take = pa.array(pos, mask=pos < 0)
        extra = {k: (v if isinstance(v, (pa.Array, pa.ChunkedArray)) else pa.array(v)).take(take)
                 for k, v in self.extra.items()}
        return Selection(id_arr, kept, weight, repeats, code, names, extra, self.method, dict(self.params),
                         self.seed, dict(self.metrics), dict(self.info))

    @property
    def n_kept(self) -> int:
        return int(self.kept.sum())

    @property
    def indices(self) -> np.ndarray:
        """Positions of the kept rows, in input order."""
        return np.flatnonzero(self.kept)

    def counts(self) -> dict[str, int]:
        """Rows kept and dropped per reason."""
        out = {"kept": self.n_kept}
        codes, cnt = np.unique(self.reason[~self.kept], return_counts=True)
        for c, k in zip(codes, cnt):
            out[self.reason_names[int(c)]] = int(k)
        return out

    def reasons(self) -> pa.Array:
        """Reason per row as dictionary-encoded strings (null when kept)."""
        names = pa.array(self.reason_names, type=pa.string())
        codes = pa.array(self.reason.astype(np.int32), mask=self.kept)
        return pa.DictionaryArray.from_arrays(codes, names)

    def to_table(self) -> pa.Table:
        """One row per input example: ``id, kept, weight, repeats, reason`` and method columns."""
        cols: dict[str, Any] = {
            "id": self.ids,
            "kept": pa.array(self.kept),
            "weight": pa.array(self.weight),
            "repeats": pa.array(self.repeats),
            "reason": self.reasons(),
        }
        for name, col in self.extra.items():
            cols[name] = col if isinstance(col, (pa.Array, pa.ChunkedArray)) else pa.array(col)
        return pa.table(cols)

    def manifest(self) -> dict[str, Any]:
        """The JSON manifest: method, parameters, seed, version, counts and metrics."""
        from datadiet._core._version import __version__

        return _jsonable(
            {
                "method": self.method,
                "params": self.params,
                "seed": self.seed,
                "datadiet_version": __version__,
                "n_input": len(self),
                "n_kept": self.n_kept,
                "total_repeats": int(self.repeats.sum()),
                "total_weight": float(self.weight.sum()),
                "counts": self.counts(),
                "metrics": self.metrics,
                **self.info,
            }
        )

    def write(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write ``path`` (Parquet) and its manifest atomically; return the manifest path."""
        dest = check_output_path(path, overwrite, suffixes=(".parquet",))
        mpath = manifest_path(dest)
        check_output_path(mpath, overwrite)
        with atomic_path(dest) as tmp, atomic_path(mpath) as mtmp:
            table = self.to_table()
            # dictionaries and statistics on unique ids cost more than they give
            pq.write_table(table, tmp, use_dictionary=["reason"],
                           write_statistics=[c for c in table.column_names if c not in ("id", "reason")])
            mtmp.write_text(json.dumps(self.manifest(), indent=2) + "\n")
        return mpath

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> Selection:
        """Read a selection written by :meth:`write` (the manifest is optional)."""
        table, manifest = read_selection(path)
        reason = table.column("reason").combine_chunks()
        if not pa.types.is_dictionary(reason.type):
            reason = reason.dictionary_encode()
        names = [str(x) for x in reason.dictionary.to_pylist()]
        codes = reason.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int8)
        base = set(SELECTION_COLUMNS)
        known = {"method", "params", "seed", "metrics", "datadiet_version", "n_input", "n_kept",
                 "total_repeats", "total_weight", "counts"}
        return cls(
            ids=table.column("id").combine_chunks(),
            kept=table.column("kept").to_numpy(),
            weight=table.column("weight").to_numpy(),
            repeats=table.column("repeats").to_numpy(),
            reason=codes,
            reason_names=names,
            extra={c: table.column(c).combine_chunks() for c in table.column_names if c not in base},
            method=manifest.get("method", ""),
            params=manifest.get("params", {}),
            seed=manifest.get("seed"),
            metrics=manifest.get("metrics", {}),
            info={k: v for k, v in manifest.items() if k not in known},
        )
