"""One recipe end to end on a large pool, and a run resumed after a kill in near dedup.

``python -m bench recipe_scale [N_DOCS]`` (default 5,000,000).

The pool is the real-text pool of ``bench/_pool.py`` replicated to ``N_DOCS`` short
documents: copy 0 is the real text; in every further copy a quarter of the rows stay
identical (exact duplicates) and the rest get one marker word appended (near duplicates
of the original) — replicated and perturbed real text, so dedup has real work. It is
written as 8 Parquet shards. The recipe: exact + near dedup -> DSIR toward BBC tech
articles -> balance by source. Each step's time and the process's peak RSS during the
step come from ``run.json``. Then the same recipe is started fresh, killed (SIGKILL)
in the dedup step, and restarted, twice: once when its first pass has finished half of
its blocks (a block's keys are spilled and its ``part-*.npz`` written), once when its
verification has finished 4 chunks of candidate pairs (``verify-*.npy``). The time to
finish is compared with the fresh run, and the selection with the fresh run's.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench._pool import OUT, describe, load_pool
from bench._util import write_markdown

RECIPE = """\
input: shards/
columns: {{id: id, text: text, group: source}}
steps:
  - dedup: {{exact: true, near: 0.8}}
  - select: {{method: dsir, target: [{target}], budget: 50%}}
  - select: {{method: balance, alpha: 0.5, budget: 60%}}
"""


def build(n_docs: int, folder: Path) -> Path:
    shards = folder / "shards"
    if shards.exists() and sum(pq.ParquetFile(p).metadata.num_rows for p in shards.glob("*.parquet")) == n_docs:
        return shards
    shutil.rmtree(folder, ignore_errors=True)
    shards.mkdir(parents=True)
    pool = load_pool()
    base = pool.num_rows
    copies = -(-n_docs // base)
    tables = []
    for c in range(copies):
        t = pool
        if c:
            exact = (np.arange(base) * 2654435761 + c * 97) % 4 == 0
            marked = pc.binary_join_element_wise(t.column("text"), pa.scalar(f"copy{c}"), " ")
            text = pc.if_else(pa.array(exact), t.column("text"), marked)
            t = pa.table({"id": pa.array(np.arange(base, dtype=np.int64) + c * base), "text": text,
                          "source": t.column("source")})
        tables.append(t)
    full = pa.concat_tables(tables).slice(0, n_docs)
    per = -(-n_docs // 8)
    for i in range(8):
        pq.write_table(full.slice(i * per, per), shards / f"part-{i}.parquet")
    return shards


def target_file(folder: Path) -> Path:
    from datadiet._testing import bbc_news, write_jsonl

    p = folder / "target_tech.jsonl"
    if not p.exists():
        bbc = bbc_news()
        write_jsonl(bbc.filter(pc.equal(bbc.column("topic"), "tech")), p)
    return p


def run_recipe(folder: Path, out: Path, kill_when: tuple[str, int] | None = None) -> tuple[float, bool]:
    """Run ``datadiet run`` in a child; with ``kill_when=(GLOB, COUNT)``, SIGKILL it once COUNT files
    matching GLOB exist under the cache (``part-*.npz``: finished dedup blocks; ``verify-*.npy``:
    finished verification chunks)."""
    cmd = [sys.executable, "-m", "datadiet", "run", str(folder / "recipe.yaml"), "-o", str(out), "-q"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=folder, env={**os.environ, "DATADIET_CACHE_DIR": str(folder / "cache")})
    killed = False
    while proc.poll() is None:
        time.sleep(0.2)
        if kill_when is not None and len(list((folder / "cache").rglob(kill_when[0]))) >= kill_when[1]:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed = True
    if not killed and proc.returncode != 0:
        raise SystemExit(f"the recipe failed (exit {proc.returncode})")
    return time.perf_counter() - t0, killed


def kill_and_resume(folder: Path, name: str, kill_when: tuple[str, int]) -> tuple[bool, float, bool]:
    """A fresh run killed at ``kill_when``, then restarted: (killed, seconds to finish, same selection)."""
    shutil.rmtree(folder / "cache", ignore_errors=True)
    shutil.rmtree(folder / name, ignore_errors=True)
    _, killed = run_recipe(folder, folder / name, kill_when)
    resumed_s, _ = run_recipe(folder, folder / name)
    same = pq.read_table(folder / name / "selection.parquet").equals(pq.read_table(folder / "fresh" / "selection.parquet"))
    return killed, resumed_s, same


def main(argv: list[str]) -> None:
    n_docs = int(float(argv[0])) if argv else 5_000_000
    folder = OUT / f"recipe_{n_docs}"
    shards = build(n_docs, folder)
    tgt = target_file(folder)
    (folder / "recipe.yaml").write_text(RECIPE.format(target=tgt))
    pool_desc = describe(pq.read_table(shards))
    shutil.rmtree(folder / "cache", ignore_errors=True)
    shutil.rmtree(folder / "fresh", ignore_errors=True)  # a finished run.json would skip every step
    fresh_s, _ = run_recipe(folder, folder / "fresh")
    stats = json.loads((folder / "fresh" / "run.json").read_text())["stats"]
    # kill in the middle of dedup: (1) in its first pass, once half of its blocks (the batches of
    # 65,536 rows of each shard) are spilled; (2) while verifying, once 4 chunks of pairs are verified
    batches = sum(-(-pq.ParquetFile(p).metadata.num_rows // 65536) for p in shards.glob("*.parquet"))
    half = max(1, batches // 2)
    k1, r1, same1 = kill_and_resume(folder, "killed", ("part-*.npz", half))
    k2, r2, same2 = kill_and_resume(folder, "killed_verify", ("verify-*.npy", 4))
    load = open("/proc/loadavg").read().split()[:3]
    lines = [f"# Recipe at scale: {n_docs:,} documents", "",
             f"Pool: {pool_desc} (real text replicated and perturbed; see bench/recipe_scale.py).", "",
             f"Command: `python -m bench recipe_scale {n_docs}`; load average at the end: {' '.join(load)}", "",
             "| step | seconds | peak RSS of the process during the step (MB) |", "|---|---|---|"]
    for name, s in stats.items():
        lines.append(f"| {name} | {s['seconds']:.1f} | {s['peak_rss_mb']} |")
    lines += ["", f"Fresh run, end to end: {fresh_s:.1f} s.",
              f"Killed in dedup's first pass after {half} of {batches} blocks (killed: {k1}); the restarted run "
              f"finished in {r1:.1f} s ({r1 / fresh_s:.2f}x the fresh run); same selection: {same1}.",
              f"Killed in dedup's verification after 4 chunks (killed: {k2}); the restarted run finished in "
              f"{r2:.1f} s ({r2 / fresh_s:.2f}x the fresh run); same selection: {same2}."]
    text = "\n".join(lines) + "\n"
    print(text)
    write_markdown("recipe_scale", text)


if __name__ == "__main__":
    main(sys.argv[1:])
