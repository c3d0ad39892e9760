"""Exact + near dedup of files in bounded memory, as map -> reduce stages on any engine.

Pass 1 (:class:`DedupSpillStep`, one task per block on either engine) reads the text of
a block and, per row, computes the exact key (BLAKE2b of the normalised text) and the
MinHash signature, turns the signature into its LSH band keys at once, and spills
``(band, key, row)`` and ``(exact key, row)`` entries to ``P`` hash partitions
(``x-PPP/`` and ``n-PPP/``: one ``.npy`` per block and partition) under the run's cache.
It returns only small per-row values to the driver: the text length, the number of
shingles and a 64-bit hash of the signature (equal signatures <=> equal hashes). A
block's ``part-*.npz`` is written last: a killed run resumes at its first block without one.
Verification keeps each finished chunk of pairs too (``verify-*.npy``), so a run killed while
verifying resumes at its first unfinished chunk.

Pass 2 (:func:`group_partition`, one engine task per partition) sorts a partition's
entries by key and links each row of a group to the group's best-ranked row (the keep
policy), restricted to the rows still active. The driver unions the links of every
partition (:class:`~datadiet.dedup.BaseDedup`'s connected components and greedy keep),
exactly as the in-memory path does; the near stage repeats on the kept rows until no
kept pair is still linked, re-grouping only the buckets that lost a row.

Verification by true Jaccard reads only the texts of candidate rows, in streamed passes
over the input (one pass per ``VERIFY_CHARS`` characters of candidate text).

Memory: per task, one partition (about ``ENTRIES_PER_PARTITION`` entries of 24 bytes);
in the driver, a few arrays of ``n`` small values (ids, rank, masks, parents) and the
candidate links. The signatures are never held (``verify='signature'`` reads them back
from per-block spill files, a chunk of pairs at a time).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datadiet._core._errors import DataError, DataTypeError
from datadiet.dedup._lsh import band_keys, group_links, signature_hash
from datadiet.dedup._minhash import jaccard_pairs, minhash_params, minhash_signatures
from datadiet.dedup._normalize import Normalization
from datadiet.engine._exact_step import exact_digests
from datadiet.engine._step import Step
from datadiet.io._read import Batch, Source

__all__ = ["DedupSpillStep", "group_partition", "dedup_streamed", "ENTRIES_PER_PARTITION", "VERIFY_CHARS"]

#: Spill entries per partition (24 bytes each): bounds the memory of one pass-2 task (~3x this x 24 B).
ENTRIES_PER_PARTITION = 4_000_000
#: Characters of candidate text verified per streamed pass (bounds the shingling of jaccard_pairs).
VERIFY_CHARS = 48_000_000
#: Candidate pairs per chunk when verifying by MinHash estimate (signature rows read back per chunk).
SIGNATURE_PAIRS = 200_000
ENTRY = np.dtype([("k1", "<u8"), ("k2", "<u8"), ("row", "<i8")])


def _block_name(file: str | None, row_start: int) -> str:
    return hashlib.sha1(f"{file}\0{row_start}".encode()).hexdigest()[:20]


def _save(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` atomically (a killed task leaves no half-written file)."""
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.save(f, array)
    os.replace(tmp, path)


def _text_column(batch: Batch, text: str) -> tuple[pa.Array, np.ndarray]:
    col = batch.table.column(text).combine_chunks()
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    if pa.types.is_null(col.type):
        col = col.cast(pa.large_string())
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        raise DataTypeError(f"text column {text!r} must hold strings, found {col.type}")
    null = col.is_null().to_numpy(zero_copy_only=False)
    return col.fill_null("").cast(pa.large_string()), np.asarray(null, dtype=bool)


class DedupSpillStep(Step):
    """Pass 1 of streamed dedup: small per-row values out, exact and LSH keys spilled to partitions.

    Output columns: ``length`` (characters, int32), and with near dedup ``shingles``
    (int32) and ``sighash`` (uint64). Rows whose text is null are spilled only when
    ``on_null`` is not ``"skip"`` (then they read as ``""``).
    """

    def __init__(self, text: str, folder: str, *, partitions: int, on_null: str = "skip",
                 exact: str | None = None, near: dict[str, Any] | None = None, bands: int = 0, rows: int = 0,
                 keep_signatures: bool = False, threads: int | None = 1) -> None:
        self.text = text
        self.columns = [text]
        self.folder = folder
        self.partitions = int(partitions)
        self.on_null = on_null
        self.exact = exact
        self.near = near
        self.bands, self.rows = int(bands), int(rows)
        self.keep_signatures = keep_signatures
        self.threads = threads

    def _spill(self, kind: str, name: str, k1: np.ndarray, k2: np.ndarray, rows: np.ndarray,
               part: np.ndarray) -> None:
        entries = np.empty(rows.size, dtype=ENTRY)
        entries["k1"], entries["k2"], entries["row"] = k1, k2, rows
        order = np.argsort(part, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(part, minlength=self.partitions))])
        entries = entries[order]
        for p in range(self.partitions):
            d = Path(self.folder) / f"{kind}-{p:03d}"
            d.mkdir(parents=True, exist_ok=True)
            _save(d / f"{name}.npy", entries[bounds[p]:bounds[p + 1]])

    def process_batch(self, batch: Batch) -> pa.Table:
        folder = Path(self.folder)
        name = _block_name(batch.file, batch.row_start)
        done = folder / f"part-{name}.npz"
        if done.exists():  # finished by a run that was killed later: not recomputed
            with np.load(done) as z:
                return _out_table({k: z[k] for k in z.files if not k.startswith("meta_")})
        col, null = _text_column(batch, self.text)
        n = len(col)
        valid = ~null if self.on_null == "skip" else np.ones(n, dtype=bool)
        rows = np.flatnonzero(valid).astype(np.int64) + int(batch.row_start)  # row within its file
        out: dict[str, np.ndarray] = {
            "length": pc.utf8_length(col).to_numpy(zero_copy_only=False).astype(np.int32)}
        p = np.uint64(self.partitions)
        if self.exact is not None:
            keys = exact_digests(col, Normalization.parse(self.exact))[valid]
            self._spill("x", name, keys[:, 0], keys[:, 1], rows, (keys[:, 0] % p).astype(np.int64))
        if self.near is not None:
            sig, cnt = minhash_signatures(col, n_jobs=self.threads, **self.near)
            out["shingles"] = cnt.astype(np.int32)
            out["sighash"] = signature_hash(sig)
            take = np.flatnonzero(valid & (cnt > 0))
            keys = band_keys(sig, take, self.bands, self.rows)  # (rows, bands)
            band = np.repeat(np.arange(self.bands, dtype=np.uint64), take.size)
            key = np.ascontiguousarray(keys.T).ravel()
            local = np.tile(take.astype(np.int64) + int(batch.row_start), self.bands)
            self._spill("n", name, band, key, local, (key % p).astype(np.int64))
            if self.keep_signatures:
                _save(folder / f"sig-{name}.npy", sig)
        tmp = done.with_name(done.name + f".{os.getpid()}.tmp")
        arrays: dict[str, Any] = {"meta_file": np.array(batch.file or ""), "meta_rows": np.array(n),
                                  "meta_row_start": np.array(int(batch.row_start)), **out}
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, done)
        return _out_table(out)


def _out_table(out: dict[str, np.ndarray]) -> pa.Table:
    return pa.table({k: pa.array(v) for k, v in out.items()})


def group_partition(task: dict[str, Any], shared: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Pass 2: links ``(member, head)`` of one partition's groups among the active rows.

    ``task``: ``paths`` (the partition's spill file of every block) and ``offsets``
    (the global row of each block's file start). ``shared``: ``active`` (mask over all
    rows), ``rank`` (or ``None``: row order), ``changed`` (or ``None``). Runs as a task
    of either engine; reads only its partition.
    """
    active, changed = shared["active"], shared["changed"]
    take = active if changed is None else active | changed  # changed rows name the buckets to redo
    parts = []
    for path, offset in zip(task["paths"], task["offsets"], strict=True):
        e = np.load(path)
        e["row"] += offset
        e = e[take[e["row"]]]  # rows dropped by an earlier stage or round take no part
        if e.size:
            parts.append(e)
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    entries = np.concatenate(parts)
    del parts
    a, b = group_links(entries["k1"], entries["k2"], entries["row"], shared["rank"], changed)
    del entries
    if a.size == 0:
        return a, b
    n = np.int64(shared["active"].size)
    code = np.unique(a * n + b)
    return code // n, code % n


class _Spill:
    """The spilled partitions of one run and the map between the dedup's rows and the files' rows."""

    def __init__(self, engine: Any, folder: Path, blocks: list[tuple[str, int, int]], partitions: int,
                 positions: np.ndarray | None, n_full: int) -> None:
        self.engine, self.folder, self.partitions = engine, folder, partitions
        self.blocks = blocks  # (name, global row of its file's start, first row in the file) in input order
        self.positions = positions  # global row of every dedup row (None: all rows, same order)
        self.n_full = n_full
        if positions is not None:
            self.local = np.full(n_full, -1, dtype=np.int64)
            self.local[positions] = np.arange(positions.size)

    def to_global(self, values: np.ndarray, fill: Any) -> np.ndarray:
        if self.positions is None:
            return values
        out = np.full(self.n_full, fill, dtype=values.dtype)
        out[self.positions] = values
        return out

    def to_local(self, rows: np.ndarray) -> np.ndarray:
        return rows if self.positions is None else self.local[rows]

    def links(self, kind: str, active: np.ndarray, rank: np.ndarray | None,
              changed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        tasks = [{"paths": [str(self.folder / f"{kind}-{p:03d}" / f"{name}.npy") for name, _, _ in self.blocks],
                  "offsets": [off for _, off, _ in self.blocks]} for p in range(self.partitions)]
        shared = {"active": active, "rank": rank, "changed": changed}
        res = self.engine.map_tasks(group_partition, tasks, shared, description=f"grouping {kind} partitions")
        if not res:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate([r[0] for r in res]), np.concatenate([r[1] for r in res])

    def rank_of(self, rank: np.ndarray) -> np.ndarray | None:
        """The rank in the files' rows; ``None`` when it follows the row order (keep='first')."""
        if rank.size < 2 or bool((np.diff(rank) > 0).all()):
            return None
        return self.to_global(rank, np.iinfo(np.int64).max)


class SpilledExactStage:
    """Exact groups from the spilled ``(digest, row)`` partitions."""

    name = "exact"
    iterate = False

    def __init__(self, spill: _Spill) -> None:
        self.spill = spill
        self.metrics: dict[str, Any] = {}

    def links(self, comb: Any, active: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = self.spill
        a, b = s.links("x", s.to_global(active, False), s.rank_of(rank), None)
        return s.to_local(a), s.to_local(b)


class SpilledNearStage:
    """LSH buckets from the spilled ``(band, key, row)`` partitions, verified, linked (repeated)."""

    name = "near"
    iterate = True

    def __init__(self, owner: Any, spill: _Spill, shingles: np.ndarray, sighash: np.ndarray,
                 verifier: _Verifier) -> None:
        self.o, self.spill, self.verifier = owner, spill, verifier
        self.shingles, self.sighash = shingles, sighash  # over the files' rows
        self.lsh = owner.banding()
        self.last_active: np.ndarray | None = None
        self.rounds = 0
        self.metrics: dict[str, Any] = {"lsh_bands": self.lsh.bands, "lsh_rows": self.lsh.rows,
                                        "candidate_pairs": 0, "verified_pairs": 0}

    def links(self, comb: Any, active: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = self.spill
        has = self.shingles > 0
        act = s.to_global(active, False) & has
        changed = None
        if self.last_active is not None:
            changed = s.to_global(self.last_active & ~active, False) & has
        self.last_active = active.copy()
        self.rounds += 1
        if changed is not None and not changed.any():
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        a, b = s.links("n", act, s.rank_of(rank), changed)
        if a.size:  # a pair found in several bands (so several partitions) counts once
            n = np.int64(s.n_full)
            code = np.unique(a * n + b)
            a, b = code // n, code % n
        self.metrics["candidate_pairs"] += int(a.size)
        verify = self.o.verify
        if a.size and verify != "none":
            same = self.sighash[a] == self.sighash[b]  # identical signatures: identical shingle sets
            check = np.flatnonzero(~same)
            sim = np.ones(a.size)
            if check.size:
                sim[check] = (self.verifier.jaccard(a[check], b[check], f"r{self.rounds}") if verify == "jaccard"
                              else self.verifier.estimate(a[check], b[check]))
            ok = sim >= self.o.threshold
            a, b = a[ok], b[ok]
        self.metrics["verified_pairs"] += int(a.size)
        return s.to_local(a), s.to_local(b)


class _Verifier:
    """True Jaccard of candidate pairs (texts read in streamed passes), or the MinHash estimate."""

    def __init__(self, source: Source, text: str, owner: Any, lengths: np.ndarray, batch_size: int,
                 spill: _Spill, num_perm: int) -> None:
        self.source, self.text, self.o = source, text, owner
        self.lengths, self.batch_size, self.spill, self.num_perm = lengths, batch_size, spill, num_perm
        self.passes = 0

    def _texts(self, rows: np.ndarray) -> pa.Array:
        """Texts of the sorted global ``rows``, in one streamed pass that stops after the last."""
        out, offset, j = [], 0, 0
        for batch in self.source.batches([self.text], self.batch_size):
            n = batch.table.num_rows
            hi = int(np.searchsorted(rows, offset + n))
            if hi > j:
                col, _ = _text_column(batch, self.text)
                out.append(col.take(pa.array(rows[j:hi] - offset)))
                j = hi
            offset += n
            if j >= rows.size:
                break
        self.passes += 1
        return pa.concat_arrays(out) if out else pa.array([], pa.large_string())

    def _chunks(self, a: np.ndarray, b: np.ndarray, budget: float) -> list[np.ndarray]:
        """Pair positions in chunks whose texts hold about ``budget`` characters (pairs sorted by head)."""
        order = np.lexsort((a, b))
        bs = b[order]
        new_head = np.ones(bs.size, dtype=bool)
        new_head[1:] = bs[1:] != bs[:-1]
        cost = self.lengths[a[order]].astype(np.float64) + 1 + np.where(new_head, self.lengths[bs] + 1, 0)
        chunk = (np.cumsum(cost) // max(budget, 1)).astype(np.int64)
        bounds = np.flatnonzero(np.diff(chunk)) + 1
        return np.split(order, bounds)

    def jaccard(self, a: np.ndarray, b: np.ndarray, tag: str = "") -> np.ndarray:
        """True Jaccard of the pairs; each finished chunk is kept in the spill folder (``verify-TAG-*.npy``),
        so a killed run resumes verification at its first unfinished chunk."""
        sim = np.zeros(a.size)
        for i, idx in enumerate(self._chunks(a, b, VERIFY_CHARS)):
            done = self.spill.folder / f"verify-{tag}-{i:05d}.npy"
            if done.exists():
                saved = np.load(done)
                if saved.size == idx.size:
                    sim[idx] = saved
                    continue
            docs, inv = np.unique(np.concatenate([a[idx], b[idx]]), return_inverse=True)
            texts = self._texts(docs)
            sim[idx] = jaccard_pairs(texts, inv[:idx.size], inv[idx.size:], shingle=self.o.shingle,
                                     ngram=self.o.ngram, normalize=self.o.normalize)
            _save(done, sim[idx])
        return sim

    def estimate(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        starts = np.array([off + first for _, off, first in self.spill.blocks], dtype=np.int64)
        names = [name for name, _, _ in self.spill.blocks]
        sim = np.zeros(a.size)
        for lo in range(0, a.size, SIGNATURE_PAIRS):
            sl = slice(lo, lo + SIGNATURE_PAIRS)
            docs, inv = np.unique(np.concatenate([a[sl], b[sl]]), return_inverse=True)
            sig = np.empty((docs.size, self.num_perm), dtype=np.uint32)
            block = np.searchsorted(starts, docs, side="right") - 1
            for k in np.unique(block):
                sel = np.flatnonzero(block == k)
                m = np.load(self.spill.folder / f"sig-{names[k]}.npy", mmap_mode="r")
                sig[sel] = m[docs[sel] - starts[k]]
                del m
            m_ = min(SIGNATURE_PAIRS, a.size - lo)
            sim[sl] = (sig[inv[:m_]] == sig[inv[m_:]]).mean(axis=1)
        return sim


def _blocks(source: Source, folder: Path) -> list[tuple[str, int, int]]:
    """``(block name, global row of its file's start, its first row in the file)`` of every finished block,
    in input order."""
    index = {source.relname(f): i for i, f in enumerate(source.files)}
    metas = []
    for p in folder.glob("part-*.npz"):
        with np.load(p) as z:
            metas.append((index.get(str(z["meta_file"]), -1), int(z["meta_row_start"]), int(z["meta_rows"]),
                          p.name[5:-4], str(z["meta_file"])))
    metas.sort()
    file_start: dict[str, int] = {}
    total = 0
    for _, _, rows, _, file in metas:
        file_start.setdefault(file, total)
        total += rows
    return [(name, file_start[file], row_start) for _, row_start, _, name, file in metas]


def dedup_streamed(source: Any, text: str, dedup: Any, signals: Any, engine: Any, *, on_null: str = "skip",
                   batch_size: int = 65536, cache_root: Any = None) -> Any:
    """Fit ``dedup`` (a :class:`~datadiet.dedup.Dedup` with exact and/or near stages) on a source's files,
    in bounded memory, with the passes on ``engine``; returns the fitted ``dedup``.

    ``signals`` are the source's text-free signals (ids, null texts, scores), e.g. from
    :func:`~datadiet.engine.load_signals`. The result equals ``dedup.fit(signals with text)``.

    Examples
    --------
    >>> import tempfile, pathlib, pyarrow as pa, pyarrow.parquet as pq
    >>> from datadiet.dedup import Dedup
    >>> from datadiet.engine import load_signals
    >>> from datadiet.io import open_source
    >>> from datadiet.signals import Columns
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> pq.write_table(pa.table({"text": ["one two three four five six", "One two three four five six!",
    ...                                   "one two three four five six seven", "something else"]}), d / "a.parquet")
    >>> src = open_source(d / "a.parquet")
    >>> sig = load_signals(src, Columns(text="text"))
    >>> dedup_streamed(src, "text", Dedup(exact=True, near=0.6), sig, "local").selection_.counts()
    {'kept': 2, 'duplicate': 2}
    """
    from datadiet.engine._engines import get_engine
    from datadiet.io._read import open_source
    from datadiet.signals import SignalCache

    source = open_source(source)
    eng = get_engine(engine)
    dedup.validate_params()
    dedup._check_keep()
    ex, nd, sd = dedup._parts()
    if sd is not None:
        raise DataError("the streamed dedup runs exact and near stages only; semantic dedup needs the vectors")
    n_full = len(signals)
    near = None if nd is None else minhash_params(num_perm=nd.num_perm, shingle=nd.shingle, ngram=nd.ngram,
                                                 normalize=nd.normalize)
    lsh = None if nd is None else nd.banding()
    per_row = (lsh.bands if lsh is not None else 0) + (1 if ex is not None else 0)
    partitions = int(min(512, max(1, -(-n_full * per_row // ENTRIES_PER_PARTITION))))
    exact_norm = None if ex is None else Normalization.parse(ex.normalize).describe()
    keep_sig = nd is not None and nd.verify == "signature"
    key = {"text": text, "exact": exact_norm, "near": near, "bands": lsh and lsh.bands, "rows": lsh and lsh.rows,
           "partitions": partitions, "on_null": on_null, "batch_size": batch_size, "signatures": keep_sig}
    store = SignalCache(source, cache_root)
    path = store.path("dedup-spill", key, "") if store.enabled else None
    folder = Path(path) if path is not None else Path(tempfile.mkdtemp(prefix="datadiet-dedup-"))
    folder.mkdir(parents=True, exist_ok=True)
    step = DedupSpillStep(text, str(folder), partitions=partitions, on_null=on_null, exact=exact_norm, near=near,
                          bands=lsh.bands if lsh else 0, rows=lsh.rows if lsh else 0, keep_signatures=keep_sig,
                          threads=None if getattr(eng, "name", "") == "local" else 1)
    with eng.session():
        out = eng.run(source, step, batch_size=batch_size, description="dedup keys")
        if out.num_rows != n_full:
            raise DataError(f"{source.name} changed while it was read ({out.num_rows} rows, then {n_full})")
        lengths = out.column("length").to_numpy()
        null = signals.null_text_rows()
        positions = None if null is None else np.setdiff1d(np.arange(n_full), null)
        spill = _Spill(eng, folder, _blocks(source, folder), partitions, positions, n_full)
        stages: list[Any] = []
        if ex is not None:
            stages.append(SpilledExactStage(spill))
        if nd is not None:
            verifier = _Verifier(source, text, nd, lengths, batch_size, spill, nd.num_perm)
            stages.append(SpilledNearStage(nd, spill, out.column("shingles").to_numpy(),
                                           out.column("sighash").to_numpy(), verifier))
            dedup.lsh_ = lsh
        del out
        dedup._fit(signals, None, stages, lengths)
    dedup.selection_.info["streamed"] = {"partitions": partitions,
                                         "verify_text_passes": verifier.passes if nd is not None else 0}
    shutil.rmtree(folder, ignore_errors=True)
    return dedup
