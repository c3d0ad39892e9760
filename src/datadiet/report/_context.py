"""What a report view can read: the selection, its manifest and (optionally) input columns and signals.

The context is built in three steps so that a 1,000,000-row selection stays cheap:

1. the selection table and manifest (a few columns of numbers);
2. the ``embedding`` signal from the input's :class:`~datadiet.signals.SignalCache`
   (memory-mapped, read in chunks);
3. one streaming pass over the input that reads only the role columns named in the
   manifest (``columns``): per-row lengths, group codes and score columns are kept;
   text is kept only for the few rows a view shows (``text_rows``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datadiet._core._errors import DataError
from datadiet._core._hashing import uniform_keys
from datadiet.io._ids import batch_ids
from datadiet.io._read import Source, open_source
from datadiet.io._selection import SELECTION_COLUMNS as _BASE
from datadiet.io._selection import read_selection
from datadiet.signals._table import Columns, encode_groups
from datadiet.signals._tokens import estimate_tokens

__all__ = ["ReportContext", "load_context", "EMBEDDING_SIGNAL"]

#: Name of the cached signal drawn as the 2-D map.
EMBEDDING_SIGNAL = "embedding"

#: Selection columns that hold a group-like code (clusters) rather than a score.
_GROUP_LIKE = ("cluster", "group", "domain", "label")
#: Characters of text kept per shown row.
MAX_TEXT = 2000
#: Seed of the report's own samples (independent of the selection's seed, so a sample of
#: dropped rows is not biased by the method's id-keyed choice).
SAMPLE_SEED = 0x5E1EC7


@dataclass
class ReportContext:
    """Everything the views read. Arrays are aligned with the selection rows (input order).

    Only ``manifest``, ``ids``, ``kept``, ``weight``, ``repeats``, ``reason`` and
    ``reason_names`` are always there; the rest is ``None`` / empty when unknown.
    """

    selection_path: Path
    manifest: dict[str, Any]
    ids: pa.Array
    kept: np.ndarray
    weight: np.ndarray
    repeats: np.ndarray
    reason: np.ndarray  # int code into reason_names, -1 when kept
    reason_names: list[str]
    extra: dict[str, pa.Array] = field(default_factory=dict)
    source: Source | None = None
    columns: Columns = field(default_factory=Columns)
    lengths: np.ndarray | None = None
    length_unit: str = ""
    groups: dict[str, tuple[np.ndarray, list[str]]] = field(default_factory=dict)
    scores: dict[str, np.ndarray] = field(default_factory=dict)
    embedding: np.ndarray | None = None
    embedding_info: dict[str, Any] = field(default_factory=dict)
    texts: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    _cache: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.kept)

    @property
    def n_kept(self) -> int:
        return int(self.kept.sum())

    def counts(self) -> dict[str, int]:
        """Counts per outcome from the manifest (the record of the run), else from the table."""
        c = self.manifest.get("counts")
        if isinstance(c, dict) and c:
            return {str(k): int(v) for k, v in c.items()}
        return self.table_counts()

    def table_counts(self) -> dict[str, int]:
        """Counts per outcome recomputed from the selection table."""
        out = {"kept": self.n_kept}
        codes, cnt = np.unique(self.reason[~self.kept], return_counts=True)
        for c, k in zip(codes, cnt, strict=False):
            out[self.reason_names[int(c)]] = int(k)
        return out

    def outcome_codes(self) -> tuple[np.ndarray, list[str]]:
        """Per-row outcome code (0 = kept, 1 + reason code otherwise) and the outcome names."""
        return (self.reason.astype(np.int32) + 1), ["kept", *self.reason_names]

    def id_str(self, pos: int) -> str:
        return str(self.ids[int(pos)].as_py())

    def text(self, pos: int) -> str | None:
        return self.texts.get(int(pos))

    def keys(self) -> np.ndarray:
        """A deterministic per-row sampling key (by id and ``SAMPLE_SEED``), computed once."""
        if "keys" not in self._cache:
            self._cache["keys"] = uniform_keys(self.ids, SAMPLE_SEED)
        return self._cache["keys"]

    def sample(self, mask: np.ndarray, k: int) -> np.ndarray:
        """Up to ``k`` positions where ``mask`` holds, chosen by id key (same on every run), sorted."""
        pos = np.flatnonzero(mask)
        if pos.size <= k:
            return pos
        keys = self.keys()[pos]
        return np.sort(pos[np.argpartition(keys, k - 1)[:k]])

    def typicality(self) -> np.ndarray | None:
        """Cosine similarity of each kept row's embedding to the kept centroid (NaN for dropped rows)."""
        if self.embedding is None or self.n_kept == 0:
            return None
        if "typicality" not in self._cache:
            self._cache["typicality"] = _centroid_similarity(self.embedding, self.kept)
        return self._cache["typicality"]


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def _centroid_similarity(emb: np.ndarray, kept: np.ndarray, chunk: int = 65536) -> np.ndarray:
    n = len(kept)
    total = np.zeros(emb.shape[1], dtype=np.float64)
    for s in range(0, n, chunk):
        m = kept[s : s + chunk]
        if m.any():
            total += _normalise(emb[s : s + chunk][m]).sum(axis=0, dtype=np.float64)
    centroid = (total / max(float(np.linalg.norm(total)), 1e-12)).astype(np.float32)
    out = np.full(n, np.nan, dtype=np.float32)
    for s in range(0, n, chunk):
        m = kept[s : s + chunk]
        if m.any():
            idx = np.flatnonzero(m) + s
            out[idx] = _normalise(emb[s : s + chunk][m]) @ centroid
    return out


# --------------------------------------------------------------------------- loading
def _base_context(path: Path, table: pa.Table, manifest: dict[str, Any]) -> ReportContext:
    reason = table.column("reason").combine_chunks()
    if pa.types.is_dictionary(reason.type):
        reason = reason.dictionary_decode()
    enc = reason.cast(pa.string()).dictionary_encode()
    names = [str(x) for x in enc.dictionary.to_pylist()]
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
    kept = table.column("kept").combine_chunks().fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
    codes[kept] = -1
    if (codes[~kept] < 0).any():
        names.append("dropped")
        codes[(~kept) & (codes < 0)] = len(names) - 1
    # order reasons by count (largest first) so charts and tables read naturally
    if names:
        cnt = np.bincount(codes[~kept], minlength=len(names))
        order = np.argsort(-cnt, kind="stable")
        remap = np.empty(len(names), dtype=np.int32)
        remap[order] = np.arange(len(names), dtype=np.int32)
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1).astype(np.int32)
        names = [names[i] for i in order if cnt[i] > 0]
    extra = {c: table.column(c).combine_chunks() for c in table.column_names if c not in _BASE}
    return ReportContext(
        selection_path=path, manifest=manifest,
        ids=table.column("id").combine_chunks(), kept=kept,
        weight=table.column("weight").to_numpy().astype(np.float64),
        repeats=table.column("repeats").to_numpy().astype(np.int64),
        reason=codes, reason_names=names, extra=extra,
    )


def _selection_signals(ctx: ReportContext) -> None:
    """Numeric method columns of the selection: cluster-like ones are groups, the rest scores."""
    for name, col in ctx.extra.items():
        t = col.type
        if name in _GROUP_LIKE and (pa.types.is_integer(t) or pa.types.is_string(t) or pa.types.is_large_string(t)):
            if col.null_count == 0:
                ctx.groups[name] = encode_groups(col)
        elif pa.types.is_floating(t) or pa.types.is_integer(t):
            a = col.to_numpy(zero_copy_only=False).astype(np.float64)
            if np.isfinite(a).any():
                ctx.scores[name] = a


def _columns_from_manifest(manifest: dict[str, Any], override: Columns | None) -> Columns:
    raw = manifest.get("columns") or {}
    base = {k: raw.get(k) for k in ("id", "text", "label", "group", "vectors", "tokens")}
    for role in manifest.get("columns_defaulted") or ():  # filled by default from a column of that name
        base[role] = base.get(role) or role
    base["scores"] = tuple(raw.get("scores") or ())
    if override is not None:
        for k, v in override.__dict__.items():
            if v:
                base[k] = v
    return Columns(**base)  # type: ignore[arg-type]


def _resolve_input(data: Any, manifest: dict[str, Any], path: Path, notes: list[str]) -> Source | None:
    read = manifest.get("read") or {}
    opts = {k: read[k] for k in ("encoding", "on_bad_encoding") if read.get(k)}  # decode as the selection did
    if data is not None:
        return open_source(data, **opts)
    name = manifest.get("input")
    if not isinstance(name, str) or not name:
        return None
    for cand in (Path(name), path.parent / name):
        if cand.exists():
            try:
                src = open_source(cand, **opts)
            except (ValueError, OSError):
                continue
            if manifest.get("input_fingerprint") in (None, src.fingerprint()):
                return src
            notes.append(f"the input {cand} changed since the selection was made; pass --input to use it anyway")
            return None
    notes.append(f"the input {name} was not found; pass --input DATA to show texts, lengths and groups")
    return None


def _embedding(ctx: ReportContext) -> None:
    from datadiet.signals._cache import SignalCache

    if ctx.source is None:
        return
    cache = SignalCache(ctx.source)
    if not cache.enabled:
        return
    best: tuple[float, Path, dict[str, Any]] | None = None
    for entry in cache.entries():
        if entry.get("name") != EMBEDDING_SIGNAL or not str(entry.get("file", "")).endswith(".npy"):
            continue
        assert cache.dir is not None
        f = cache.dir / entry["file"]
        shape = entry.get("shape") or []
        if shape and int(shape[0]) != len(ctx):
            continue
        mtime = f.stat().st_mtime
        if best is None or mtime > best[0]:
            best = (mtime, f, entry)
    if best is None:
        return
    arr = np.load(best[1], mmap_mode="r")
    if arr.ndim != 2 or arr.shape[0] != len(ctx):
        ctx.notes.append(f"the cached embedding {best[1].name} has shape {arr.shape}, not ({len(ctx)}, d); not drawn")
        return
    ctx.embedding = arr
    ctx.embedding_info = {"file": str(best[1]), "params": best[2].get("params", {}), "dim": int(arr.shape[1])}


def _read_input(ctx: ReportContext, text_rows: np.ndarray, batch_size: int = 65536) -> None:
    """One streaming pass over the role columns; check the rows match the selection's ids."""
    src, cols = ctx.source, ctx.columns
    assert src is not None
    wanted = [cols.id, cols.text, cols.tokens, cols.group, cols.label, *cols.scores]
    have = set(src.column_names)
    missing = [c for c in wanted if c and c not in have]
    if missing:
        ctx.notes.append(f"column(s) {', '.join(missing)} are not in {src.name}; their views are left out")
    read = list(dict.fromkeys(c for c in wanted if c and c in have)) or [src.column_names[0]]
    group_cols = list(dict.fromkeys(c for c in (cols.group, cols.label) if c and c in have))
    score_cols = [c for c in cols.scores if c in have]
    n = len(ctx)
    lengths: list[np.ndarray] = []
    groups: dict[str, list[pa.Array]] = {g: [] for g in group_cols}
    scores: dict[str, list[np.ndarray]] = {s: [] for s in score_cols}
    text_rows = np.unique(text_rows)
    row = 0
    for batch in src.batches(read, batch_size):
        t = batch.table
        m = t.num_rows
        if row + m > n:
            raise DataError(f"{src.name} has more rows than the selection {ctx.selection_path} ({n:,}); "
                             "pass the input the selection was made from")
        got = batch_ids(t, cols.id if cols.id in have else None, batch.file, batch.row_start)
        exp = ctx.ids.slice(row, m)
        if got.type != exp.type or not pc.all(pc.equal(got, exp)).as_py():
            bad = row + int(np.flatnonzero(~pc.equal(got.cast(pa.string()), exp.cast(pa.string()))
                                           .fill_null(False).to_numpy(zero_copy_only=False))[:1].sum())
            raise DataError(f"{src.name} does not match the selection {ctx.selection_path}: row {bad} has id "
                             f"{got[bad - row].as_py()!r}, the selection {exp[bad - row].as_py()!r}; "
                             "pass the input the selection was made from")
        if cols.tokens in t.column_names:
            lengths.append(t.column(cols.tokens).to_numpy().astype(np.float64))
        elif cols.text in t.column_names:
            txt = t.column(cols.text).combine_chunks()
            if pa.types.is_string(txt.type) or pa.types.is_large_string(txt.type):
                lengths.append(estimate_tokens(txt).astype(np.float64))
        if cols.text in t.column_names:
            lo, hi = np.searchsorted(text_rows, [row, row + m])
            if hi > lo:
                local = text_rows[lo:hi] - row
                vals = t.column(cols.text).take(pa.array(local)).to_pylist()
                for p, v in zip(text_rows[lo:hi], vals, strict=False):
                    ctx.texts[int(p)] = "" if v is None else str(v)[:MAX_TEXT]
        for g in group_cols:
            col = t.column(g).combine_chunks()
            if pa.types.is_dictionary(col.type):
                col = col.dictionary_decode()
            groups[g].append(col.cast(pa.string()).fill_null("(missing)"))
        for s in score_cols:
            col = t.column(s)
            if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
                scores[s].append(col.to_numpy().astype(np.float64))
        row += m
    if row != n:
        raise DataError(f"{src.name} has {row:,} rows but the selection {ctx.selection_path} has {n:,}; "
                         "pass the input the selection was made from")
    if lengths and sum(len(x) for x in lengths) == n:
        ctx.lengths = np.concatenate(lengths)
        ctx.length_unit = "tokens" if cols.tokens in have else "tokens (estimated: UTF-8 bytes / 4)"
    for g, parts in groups.items():
        if parts:
            ctx.groups = {g: encode_groups(pa.concat_arrays(parts)), **ctx.groups}
    for s, sparts in scores.items():
        if sparts and sum(len(x) for x in sparts) == n:
            ctx.scores[s if s not in ctx.scores else f"{s} (input)"] = np.concatenate(sparts)


def load_context(selection_path: str | os.PathLike[str], data: Any = None, *, columns: Columns | None = None,
                 text_rows: Iterable[Any] | None = None, batch_size: int = 65536) -> ReportContext:
    """Build the :class:`ReportContext` of a selection file (and, optionally, its input ``data``).

    ``text_rows`` is a callable ``ctx -> positions`` (or an iterable of such callables)
    giving the rows whose text is read; the views supply it.
    """
    path = Path(selection_path)
    table, manifest = read_selection(path)
    ctx = _base_context(path, table, manifest)
    del table
    _selection_signals(ctx)
    ctx.columns = _columns_from_manifest(manifest, columns)
    ctx.source = _resolve_input(data, manifest, path, ctx.notes)
    if ctx.source is None:
        return ctx
    _embedding(ctx)
    rows = [np.zeros(0, np.int64)]
    for fn in text_rows or ():
        rows.append(np.asarray(fn(ctx), dtype=np.int64))
    _read_input(ctx, np.concatenate(rows), batch_size)
    return ctx
