"""Stream-write tables to Parquet, JSONL (optionally .gz / .zst) or CSV, chosen by the file name."""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from datadiet.io._read import _format_of

__all__ = ["TableWriter"]


class TableWriter:
    """Append tables to one output file; the format follows the destination's name.

    Examples
    --------
    >>> import tempfile, pathlib, pyarrow as pa
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.jsonl"
    >>> with TableWriter(p, p) as w:
    ...     w.write(pa.table({"a": [1, 2]}))
    >>> p.read_text()
    '{"a": 1}\\n{"a": 2}\\n'
    """

    def __init__(self, path: Path, named_as: Path) -> None:
        self.path = path
        self.kind, self.comp = _format_of(named_as, "write")
        self._writer: Any = None
        self._stream: Any = None

    def write(self, table: pa.Table) -> None:
        if self.kind == "parquet":
            if self._writer is None:
                self._writer = pq.ParquetWriter(self.path, table.schema)
            self._writer.write_table(table)
            return
        if self._stream is None:
            self._stream = pa.output_stream(str(self.path), compression=self.comp)
        if self.kind == "csv":
            if self._writer is None:
                self._writer = pacsv.CSVWriter(self._stream, table.schema)
            self._writer.write_table(table)
            return
        lines = "".join(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in table.to_pylist())
        self._stream.write(lines.encode("utf-8"))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._stream is not None:
            self._stream.close()
        if self._writer is None and self._stream is None:
            self.path.write_bytes(b"")

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
