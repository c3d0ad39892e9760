"""Issue 2: stream Parquet shards, select 10% (random and temperature-balanced), write the selection.

Compared with a bare pyarrow read of the same files, in separate child processes
(so each peak RSS is its own). Run: ``python -m bench foundation [--rows 1000000 ...]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench._util import OUT, run_isolated, write_markdown

SHARDS = 8


def make_shards(n_rows: int) -> Path:
    """``n_rows`` rows of real text (the bench pool, cycled) in 8 Parquet shards: id, text, source, lang."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from bench._pool import load_pool

    folder = OUT / f"foundation_{n_rows}"
    if folder.exists() and len(list(folder.glob("*.parquet"))) == SHARDS:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    pool = load_pool()
    reps = -(-n_rows // pool.num_rows)
    idx = np.arange(n_rows) % pool.num_rows
    text = pool.column("text").take(pa.array(idx))
    source = pool.column("source").take(pa.array(idx))
    # a skewed 12-way "language" column to balance over (Zipf-like sizes)
    langs = np.array(["en", "de", "fr", "es", "it", "nl", "pt", "pl", "sv", "cs", "fi", "da"])
    rng = np.random.default_rng(0)
    p = 1.0 / np.arange(1, 13) ** 1.5
    lang = langs[rng.choice(12, size=n_rows, p=p / p.sum())]
    table = pa.table({"id": np.arange(n_rows, dtype=np.int64), "text": text, "source": source, "lang": lang})
    del reps
    for i, start in enumerate(range(0, n_rows, -(-n_rows // SHARDS))):
        pq.write_table(table.slice(start, -(-n_rows // SHARDS)), folder / f"part-{i:03d}.parquet")
    return folder


BARE_ALL = """
import json, time, pyarrow.parquet as pq, pathlib
t0 = time.perf_counter(); rows = 0
for f in sorted(pathlib.Path({folder!r}).glob('*.parquet')):
    for b in pq.ParquetFile(f).iter_batches(batch_size=65536):
        rows += b.num_rows
print(json.dumps({{'seconds': time.perf_counter() - t0, 'rows': rows}}))
"""

BARE_COLS = """
import json, time, pyarrow.parquet as pq, pathlib
t0 = time.perf_counter(); rows = 0
for f in sorted(pathlib.Path({folder!r}).glob('*.parquet')):
    for b in pq.ParquetFile(f).iter_batches(batch_size=65536, columns={cols!r}):
        rows += b.num_rows
print(json.dumps({{'seconds': time.perf_counter() - t0, 'rows': rows}}))
"""

DATADIET = """
import json, time, tempfile, pathlib
import datadiet as dd
t0 = time.perf_counter()
sig = dd.load_signals({folder!r}, dd.Columns(id='id', group={group!r}))
sel = {selector}.fit(sig).selection_
out = pathlib.Path(tempfile.mkdtemp()) / 'sel.parquet'
sel.write(out)
print(json.dumps({{'seconds': time.perf_counter() - t0, 'rows': len(sel), 'kept': int(sel.repeats.sum())}}))
"""


def run(n_rows: int) -> list[dict]:
    folder = str(make_shards(n_rows))
    cases = [
        ("bare pyarrow read, all columns", BARE_ALL.format(folder=folder)),
        ("bare pyarrow read, columns id+lang", BARE_COLS.format(folder=folder, cols=["id", "lang"])),
        ("datadiet random 10%", DATADIET.format(folder=folder, group=None,
                                                selector="dd.RandomSelector(budget='10%', seed=0)")),
        ("datadiet balance 10% (alpha 0.5, lang)", DATADIET.format(
            folder=folder, group="lang", selector="dd.GroupBalanceSelector(budget='10%', alpha=0.5, seed=0)")),
    ]
    rows = []
    for name, code in cases:
        best = None
        for _ in range(3):
            r = run_isolated(code)
            if best is None or r["seconds"] < best["seconds"]:
                best = r
        assert best is not None
        rows.append({"n": n_rows, "case": name, **best})
    return rows


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench foundation")
    ap.add_argument("--rows", type=int, nargs="+", default=[250_000, 1_000_000, 2_000_000])
    args = ap.parse_args(argv)
    results = [r for n in args.rows for r in run(n)]
    lines = ["| rows | case | seconds (best of 3) | rows/s | peak RSS MB | time vs bare read (all cols) | time vs bare read (same cols) |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    for n in args.rows:
        rs = [r for r in results if r["n"] == n]
        bare_all = rs[0]["seconds"]
        bare_cols = rs[1]["seconds"]
        for r in rs:
            lines.append(f"| {n:,} | {r['case']} | {r['seconds']:.3f} | {n / r['seconds']:,.0f} | "
                         f"{r['peak_rss_mb']:.0f} | {r['seconds'] / bare_all:.2f}x | {r['seconds'] / bare_cols:.2f}x |")
    write_markdown("foundation", "\n".join(lines) + "\n")
    (OUT / "foundation.json").write_text(json.dumps(results, indent=1))
