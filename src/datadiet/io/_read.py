"""Open datasets and stream them in batches with bounded memory.

Supported inputs: JSONL (``.jsonl``, ``.json``, ``.ndjson``, optionally ``.gz`` /
``.zst``), Parquet, CSV (``.csv``, ``.tsv``, optionally compressed), a folder of
such files (read recursively, in sorted path order), a glob, and in Python a
pyarrow Table, a pandas DataFrame or a Hugging Face ``datasets.Dataset``.
"""

from __future__ import annotations

import codecs
import glob as globlib
import hashlib
import io
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from datadiet._core._errors import DataError, DataTypeError

__all__ = ["Source", "Batch", "open_source", "SUFFIXES", "ENCODING_POLICIES"]

#: What to do with bytes that are not valid in the file's encoding.
ENCODING_POLICIES = ("error", "replace", "skip")

_JSON = (".jsonl", ".json", ".ndjson")
_CSV = (".csv", ".tsv")
_PARQUET = (".parquet", ".pq")
_COMPRESSION = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bz2"}
SUFFIXES = _JSON + _CSV + _PARQUET
_CHUNK = 16 << 20  # bytes of text per JSON/CSV block
_PIECE = 1 << 16  # bytes per read of a (decompressed) stream


def _format_of(path: Path, action: str = "read") -> tuple[str, str | None]:
    suffixes = [s.lower() for s in path.suffixes]
    comp = None
    if suffixes and suffixes[-1] in _COMPRESSION:
        comp = _COMPRESSION[suffixes[-1]]
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext in _JSON:
        return "jsonl", comp
    if ext in _CSV:
        return "csv", comp
    if ext in _PARQUET and comp is None:
        return "parquet", None
    raise DataError(
        f"cannot {action} {path}: unknown file type {''.join(path.suffixes) or '(none)'}; "
        f"use one of {', '.join(SUFFIXES)} (JSONL and CSV may end in .gz or .zst)"
    )


@dataclass
class Batch:
    """A block of rows: the data, the file it came from (relative name) and its first row number."""

    table: pa.Table
    file: str | None
    row_start: int


class Source:
    """A dataset to stream: a list of files or an in-memory table.

    Use :func:`open_source` to make one.
    """

    def __init__(self, files: Sequence[Path] | None = None, root: Path | None = None,
                 table: pa.Table | None = None, name: str = "", *, encoding: str = "utf-8",
                 on_bad_encoding: str = "error") -> None:
        self.files = list(files or [])
        self.root = root
        self.table = table
        self.name = name
        self.encoding = encoding
        self.on_bad_encoding = on_bad_encoding
        #: rows (lines) with bytes invalid in ``encoding``, per file, from the last read of that file
        self.bad_encoding_rows: dict[str, int] = {}
        self._schema: pa.Schema | None = None

    def read_options(self) -> dict[str, Any]:
        """How the files were decoded (recorded in manifests so ``apply`` reads them the same way)."""
        out: dict[str, Any] = {"encoding": self.encoding, "on_bad_encoding": self.on_bad_encoding}
        bad = sum(self.bad_encoding_rows.values())
        if bad:
            out["bad_encoding_rows"] = bad
        return out

    # --- description -----------------------------------------------------
    def relname(self, path: Path) -> str:
        """File name relative to the dataset root (used in assigned ids)."""
        if self.root is not None and self.root.is_dir():
            return path.relative_to(self.root).as_posix()
        return path.name

    @property
    def schema(self) -> pa.Schema:
        """Schema of the first file (or of the table)."""
        if self._schema is None:
            if self.table is not None:
                self._schema = self.table.schema
            else:
                self._schema = self._schema_of(self.files[0])
        return self._schema

    @property
    def column_names(self) -> list[str]:
        return list(self.schema.names)

    def fingerprint(self) -> str:
        """A cheap fingerprint: names, sizes and modification times of the files (or table content hash)."""
        h = hashlib.sha256()
        if self.table is not None:
            h.update(str(self.table.schema).encode())
            h.update(str(self.table.num_rows).encode())
            for col in self.table.columns[:4]:
                for chunk in col.chunks[:1]:
                    for buf in chunk.buffers():
                        if buf is not None:
                            h.update(buf.to_pybytes()[:1 << 20])
        else:
            for f in self.files:
                st = f.stat()
                h.update(f"{self.relname(f)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
        return h.hexdigest()[:16]

    def check_columns(self, columns: Sequence[str | None]) -> None:
        """Raise ``KeyError``-like ``ValueError`` naming missing columns and the ones that exist."""
        have = self.column_names
        missing = [c for c in columns if c is not None and c not in have]
        if missing:
            raise DataError(
                f"column{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)} "
                f"not found in {self.name}; columns that exist: {', '.join(have)}"
            )

    def _schema_of(self, path: Path) -> pa.Schema:
        kind, _ = _format_of(path)
        if kind == "parquet":
            try:
                return pq.read_schema(path)
            except (pa.ArrowInvalid, OSError) as e:
                raise DataError(f"{path}: not a readable Parquet file ({e})") from None
        for batch in self._file_batches(path, None, 1024):
            return batch.table.schema
        raise DataError(f"{path} is empty: no rows to read")

    # --- streaming -------------------------------------------------------
    def batches(self, columns: Sequence[str] | None = None, batch_size: int = 65536) -> Iterator[Batch]:
        """Yield batches with only ``columns`` (all when ``None``), in file order."""
        if columns is not None:
            self.check_columns(columns)
            columns = list(dict.fromkeys(columns))
        if self.table is not None:
            t = self.table if columns is None else self.table.select(columns)
            for start in range(0, max(t.num_rows, 1), batch_size):
                if t.num_rows:
                    yield Batch(t.slice(start, batch_size), None, start)
            return
        for f in self.files:
            yield from self._file_batches(f, columns, batch_size)

    def _file_batches(self, path: Path, columns: list[str] | None, batch_size: int) -> Iterator[Batch]:
        kind, comp = _format_of(path)
        rel = self.relname(path)
        row = 0
        if kind == "parquet":
            try:
                pf = pq.ParquetFile(path)
                it = pf.iter_batches(batch_size=batch_size, columns=columns)
                for rb in it:
                    yield Batch(pa.Table.from_batches([rb]), rel, row)
                    row += rb.num_rows
            except (pa.ArrowInvalid, OSError) as e:
                raise DataError(f"{path}: not a readable Parquet file ({e})") from None
            return
        if kind == "csv":
            yield from self._csv_batches(path, comp, rel, columns)
            return
        yield from self._jsonl_batches(path, comp, rel, columns)

    def _text(self, path: Path, comp: str | None, rel: str) -> _TextReader:
        return _TextReader(path, comp, self.encoding, self.on_bad_encoding, self.bad_encoding_rows, rel)

    def _csv_batches(self, path: Path, comp: str | None, rel: str, columns: list[str] | None) -> Iterator[Batch]:
        delim = "\t" if ".tsv" in [s.lower() for s in path.suffixes] else ","
        text = self._text(path, comp, rel)
        try:
            reader = pacsv.open_csv(
                _ChunkFile(text.chunks()),
                read_options=pacsv.ReadOptions(block_size=_CHUNK),
                parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(include_columns=columns),
            )
            row = 0
            for rb in reader:
                yield Batch(pa.Table.from_batches([rb]), rel, row)
                row += rb.num_rows
        except pa.ArrowInvalid as e:
            msg = str(e).replace("\n", " ")
            if "Empty CSV file" in msg:
                return
            raise DataError(f"{path}: malformed CSV ({msg})") from None
        except OSError as e:  # raised by our reader inside arrow's threads, re-raised here
            if text.error is not None:
                raise text.error from None
            raise DataError(f"{path}: cannot read ({e})") from None
        if text.error is not None:
            raise text.error from None

    def _jsonl_batches(self, path: Path, comp: str | None, rel: str, columns: list[str] | None) -> Iterator[Batch]:
        schema: pa.Schema | None = None
        row = 0
        line_no = 1
        for block in self._text(path, comp, rel).chunks():
            n_lines = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
            try:
                opts = pajson.ParseOptions(
                    explicit_schema=schema,
                    unexpected_field_behavior="ignore" if schema is not None else "infer",
                )
                table = pajson.read_json(io.BytesIO(block), parse_options=opts,
                                         read_options=pajson.ReadOptions(block_size=max(len(block) + 1, 1 << 20)))
            except pa.ArrowInvalid as e:
                raise DataError(_json_error(path, block, line_no, schema, str(e))) from None
            if schema is None:
                names = columns if columns is not None else table.column_names
                missing = [c for c in names if c not in table.column_names]
                if missing:
                    raise DataError(
                        f"column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))} not found "
                        f"in {path}; columns that exist: {', '.join(table.column_names)}"
                    )
                schema = pa.schema([table.schema.field(c) for c in names])
                table = table.select(names)
            elif columns is not None:
                table = table.select([c for c in columns])
            yield Batch(table, rel, row)
            row += table.num_rows
            line_no += n_lines


def _json_error(path: Path, block: bytes, first_line: int, schema: pa.Schema | None, arrow_msg: str) -> str:
    seen: dict[str, tuple[str, int]] = {}  # column -> (JSON type of its first value, line)
    for i, raw in enumerate(block.split(b"\n")):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            return f"{path}, line {first_line + i}: malformed JSON ({e.msg}, column {e.colno})"
        if not isinstance(obj, dict):
            return f"{path}, line {first_line + i}: expected a JSON object, got {type(obj).__name__}"
        if schema is None:
            for key, v in obj.items():
                if v is None:
                    continue
                kind = "number" if isinstance(v, (int, float)) and not isinstance(v, bool) else type(v).__name__
                first = seen.setdefault(key, (kind, first_line + i))
                if first[0] != kind:
                    return (f"{path}, line {first_line + i}: column {key!r} has {type(v).__name__} value "
                            f"{str(v)[:40]!r}, but line {first[1]} holds a {first[0]}")
        else:
            for fld in schema:
                v = obj.get(fld.name)
                if v is None:
                    continue
                if not _fits(v, fld.type):
                    return (f"{path}, line {first_line + i}: column {fld.name!r} has {type(v).__name__} "
                            f"value {str(v)[:40]!r}, but earlier lines hold {fld.type}")
    return f"{path}, near line {first_line}: cannot parse JSON ({arrow_msg.splitlines()[0]})"


def _fits(v: Any, t: pa.DataType) -> bool:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return isinstance(v, str)
    if pa.types.is_integer(t):
        return isinstance(v, int) and not isinstance(v, bool)
    if pa.types.is_floating(t):
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if pa.types.is_boolean(t):
        return isinstance(v, bool)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return isinstance(v, list)
    return True


class _TextReader:
    """Decompressed bytes of a text file in blocks of whole lines, valid UTF-8 (transcoded if needed).

    Damaged compressed files and bytes invalid in ``encoding`` raise one
    :class:`DataError` naming the file and how far reading got; with
    ``on_bad_encoding="replace"`` bad bytes become U+FFFD, with ``"skip"`` the
    lines holding them are dropped (counted in ``counts[rel]``).
    """

    def __init__(self, path: Path, comp: str | None, encoding: str, on_bad: str, counts: dict[str, int],
                 rel: str) -> None:
        self.path, self.comp, self.encoding, self.on_bad = path, comp, encoding, on_bad
        self.utf8 = codecs.lookup(encoding).name == "utf-8"
        self.counts, self.rel = counts, rel
        self.lines = 0  # complete lines handed out so far
        self.offset = 0  # decompressed bytes handed out so far
        self.seen_lines = 0  # and read from the file
        self.seen_bytes = 0
        self.error: DataError | None = None

    def _damaged(self, e: OSError) -> DataError:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        kind = {"gzip": "gzip", "zstd": "zstd", "bz2": "bzip2"}.get(self.comp or "", "")
        if "truncated" in msg.lower():
            return DataError(f"{self.path}: the {kind} file is truncated (it ends mid-stream after {self.seen_lines:,} "
                             f"complete lines, {self.seen_bytes:,} bytes decompressed); copy or compress it again")
        if self.comp is not None and self.seen_bytes == 0:
            return DataError(f"{self.path}: not a valid {kind} file ({msg}); is it really compressed? "
                             f"rename it without {self.path.suffix} if it is plain text")
        return DataError(f"{self.path}: the {kind or 'file'} is damaged after {self.seen_lines:,} complete lines "
                         f"({msg})")

    def _pieces(self) -> Iterator[bytes]:
        """Decompressed pieces of about 1 MB; counts what was read so a damaged file can say how far it got."""
        try:
            stream = pa.input_stream(str(self.path), compression=self.comp)
        except OSError as e:
            raise self._damaged(e) from None
        with stream:
            while True:
                try:
                    piece = stream.read(min(_PIECE, _CHUNK))
                except OSError as e:
                    self.error = self._damaged(e)
                    raise self.error from None
                if not piece:
                    return
                self.seen_lines += piece.count(b"\n")
                self.seen_bytes += len(piece)
                yield piece

    def chunks(self) -> Iterator[bytes]:
        self.counts[self.rel] = 0
        rest = b""
        pending: list[bytes] = []
        size = 0
        first = True
        for piece in self._pieces():
            if first and self.utf8 and piece.startswith(codecs.BOM_UTF8):
                piece = piece[len(codecs.BOM_UTF8):]
            first = False
            pending.append(piece)
            size += len(piece)
            if size < _CHUNK:
                continue
            data = rest + b"".join(pending)
            pending, size = [], 0
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            block, rest = data[: cut + 1], data[cut + 1 :]
            yield self._decoded(block)
        data = rest + b"".join(pending)
        if data:
            yield self._decoded(data)

    def _decoded(self, block: bytes) -> bytes:
        """``block`` as valid UTF-8 under the policy; advances the line and byte counters."""
        out = block
        if self.utf8:
            try:
                pa.array([block], pa.binary()).cast(pa.string())  # fast validation, no Python str
            except pa.ArrowInvalid:
                out = self._fix(block)
        else:
            try:
                out = block.decode(self.encoding).encode("utf-8")
            except UnicodeDecodeError:
                out = self._fix(block)
        self.lines += block.count(b"\n")
        self.offset += len(block)
        return out

    def _fix(self, block: bytes) -> bytes:
        try:
            return block.decode(self.encoding).encode("utf-8")
        except UnicodeDecodeError as e:
            first_bad = e.start
        if self.on_bad == "error":
            line = self.lines + 1 + block.count(b"\n", 0, first_bad)
            raise DataError(
                f"{self.path}, line {line:,}: byte 0x{block[first_bad]:02x} (at byte {self.offset + first_bad:,}"
                f"{' of the decompressed data' if self.comp else ''}) is not valid {self.encoding}; if the file "
                f"is in another encoding pass encoding= (--encoding, e.g. latin-1), or on_bad_encoding="
                f"'replace' or 'skip' (--on-bad-encoding)") from None
        lines = block.split(b"\n")
        good = []
        for raw in lines:
            try:
                good.append(raw.decode(self.encoding))
            except UnicodeDecodeError:
                self.counts[self.rel] = self.counts.get(self.rel, 0) + 1
                if self.on_bad == "replace":
                    good.append(raw.decode(self.encoding, errors="replace"))
        return "\n".join(good).encode("utf-8")


class _ChunkFile(io.RawIOBase):
    """A read-only file over an iterator of byte blocks (for arrow's CSV reader)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._it = chunks
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf:
            try:
                self._buf = next(self._it)
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def _expand(path: str | os.PathLike[str], role: str = "input") -> tuple[list[Path], Path | None]:
    s = str(path)
    if any(ch in s for ch in "*?["):
        files = sorted(Path(p) for p in globlib.glob(s, recursive=True) if Path(p).is_file())
        root = Path(os.path.commonpath([str(f.parent) for f in files])) if files else None
        return [f for f in files if _is_data(f)], root
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and _is_data(f) and not _hidden(f, p))
        return files, p
    if p.is_file():
        _format_of(p)
        return [p], p
    raise FileNotFoundError(f"{role} {p} does not exist")


def _hidden(f: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in f.relative_to(root).parts)


def _is_data(f: Path) -> bool:
    try:
        _format_of(f)
        return True
    except ValueError:
        return False


def open_source(data: Any, *, name: str | None = None, encoding: str | None = None,
                on_bad_encoding: str | None = None, role: str = "input") -> Source:
    """Open a path, folder, glob, pyarrow Table, pandas DataFrame or HF ``datasets.Dataset``.

    Text files (JSONL, CSV) are decoded with ``encoding`` (default ``utf-8``; a
    leading byte-order mark is dropped). Bytes invalid in it are an error naming
    the file, line and byte offset (``on_bad_encoding="error"``, the default),
    become U+FFFD (``"replace"``) or drop their line (``"skip"``; counted in
    :meth:`Source.read_options`). Given a :class:`Source`, returns it, or a copy
    with the options given. ``role`` names the data in errors (``input``, ``target``).

    Examples
    --------
    >>> import pyarrow as pa
    >>> src = open_source(pa.table({"text": ["a", "b"]}))
    >>> src.column_names
    ['text']
    """
    if encoding is not None:
        if not isinstance(encoding, str):
            raise DataTypeError(f"encoding must be a string such as 'utf-8' or 'latin-1'; got {encoding!r}")
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise DataError(f"unknown encoding {encoding!r}; use a Python codec name such as utf-8, latin-1, "
                            "cp1252") from None
    if on_bad_encoding is not None and on_bad_encoding not in ENCODING_POLICIES:
        raise DataError(f"on_bad_encoding must be one of {', '.join(map(repr, ENCODING_POLICIES))}; "
                        f"got {on_bad_encoding!r}")
    opts = {k: v for k, v in (("encoding", encoding), ("on_bad_encoding", on_bad_encoding)) if v is not None}
    if isinstance(data, Source):
        if not opts or all(getattr(data, k) == v for k, v in opts.items()):
            return data
        return Source(data.files, data.root, data.table, data.name, **{
            "encoding": data.encoding, "on_bad_encoding": data.on_bad_encoding, **opts})
    if isinstance(data, pa.Table):
        return Source(table=data, name=name or "the table")
    if isinstance(data, pa.RecordBatch):
        return Source(table=pa.Table.from_batches([data]), name=name or "the record batch")
    mod = type(data).__module__
    if mod.startswith("pandas"):
        return Source(table=pa.Table.from_pandas(data, preserve_index=False), name=name or "the DataFrame")
    if mod.startswith("datasets"):
        table = getattr(getattr(data, "data", None), "table", None)
        if table is None:
            raise DataTypeError("cannot read this datasets object; pass a datasets.Dataset (not a DatasetDict)")
        if getattr(data, "_indices", None) is not None:
            table = data.flatten_indices().data.table
        return Source(table=table, name=name or "the Dataset")
    if not isinstance(data, (str, os.PathLike)):
        raise DataTypeError(
            f"cannot read {type(data).__name__}: pass a path, folder, glob, pyarrow Table, "
            "pandas DataFrame or datasets.Dataset"
        )
    files, root = _expand(data, role)
    if not files:
        raise DataError(f"no data files ({', '.join(SUFFIXES)}) found under {data}")
    for f in files:
        if not os.access(f, os.R_OK):
            raise PermissionError(f"cannot read {f}: permission denied")
    return Source(files, root, name=name or str(data), **opts)
