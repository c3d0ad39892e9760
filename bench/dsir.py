"""DSIR: datadiet ``dsir_select`` vs the reference ``data-selection`` 1.0.3 (``HashedNgramDSIR``).

Both read the same pool (the first N paragraphs of ``bench/_pool.py``, as one JSONL file), the
same target (the 401 BBC "tech" articles), 10,000 buckets, unigrams + bigrams,
the same budget (10% of the pool) and two processes / threads each. The reference
gets ``min_example_length=0`` so it keeps every text (its default of 100 tokens
silently drops short ones). Each tool runs in its own child process; peak memory
is the largest summed RSS of that process and its workers (sampled every 0.1 s).
KL reduction of both selections is measured in one feature space (datadiet's
hashed n-grams) against the same random subset of the same size.

Usage: ``python -m bench dsir [N ...] [--skip-ref]`` (default N: 200000 1000000).
"""

from __future__ import annotations

import json
import shutil
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bench._pool import describe, load_pool
from bench._util import OUT, run_isolated, write_markdown

BUCKETS = 10_000
JOBS = 2

_SAMPLER = """
import threading, psutil, time as _t
_tree_peak = [0.0]
def _sample():
    me = psutil.Process()
    while True:
        try:
            rss = me.memory_info().rss + sum(c.memory_info().rss for c in me.children(recursive=True))
        except psutil.Error:
            rss = 0
        _tree_peak[0] = max(_tree_peak[0], rss / 2**20)
        _t.sleep(0.1)
threading.Thread(target=_sample, daemon=True).start()
"""

_OURS = _SAMPLER + """
import json, time, numpy as np
from datadiet.engine import dsir_select
from datadiet.signals import Columns, SignalCache
from datadiet.io import open_source
t0 = time.perf_counter()
src = open_source({pool!r})
sel = dsir_select(src, {target!r}, Columns(text="text", id="id"), budget={k}, n_jobs={jobs},
                  buckets={buckets}, seed=0, cache=SignalCache(src, root={cache!r}))
wall = time.perf_counter() - t0
np.save({out!r}, np.asarray(sel.ids.to_numpy())[sel.kept])
print(json.dumps({{"wall_s": wall, "kl_reduction_own": sel.metrics["kl_reduction"], "tree_peak_mb": _tree_peak[0]}}))
"""

_REF = _SAMPLER + """
import json, time, glob, numpy as np
from data_selection import HashedNgramDSIR
np.random.seed(0)
t0 = time.perf_counter()
d = HashedNgramDSIR([{pool!r}], [{target!r}], cache_dir={cache!r}, num_proc={jobs}, ngrams=2,
                    num_buckets={buckets}, min_example_length=0)
d.fit_importance_estimator(num_tokens_to_fit="all")
d.compute_importance_weights()
d.resample(out_dir={outdir!r}, num_to_sample={k}, cache_dir={cache!r} + "/resampled", top_k=False)
wall = time.perf_counter() - t0
ids = [json.loads(l)["id"] for f in sorted(glob.glob({outdir!r} + "/*.jsonl")) for l in open(f)]
np.save({out!r}, np.asarray(ids, dtype=np.int64))
print(json.dumps({{"wall_s": wall, "tree_peak_mb": _tree_peak[0]}}))
"""


def _write_jsonl(table: pa.Table, path) -> None:
    if path.exists():
        return
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for batch in table.to_batches(100_000):
            for row in batch.to_pylist():
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.rename(path)


def _featurize_rate(texts: pa.Array) -> float:
    """Single-thread featurisation throughput (MB of UTF-8 text per second)."""
    from datadiet.signals import hashed_ngrams

    mb = pc.sum(pc.binary_length(texts)).as_py() / 1e6
    t0 = time.perf_counter()
    for s in range(0, len(texts), 65536):
        hashed_ngrams(texts.slice(s, 65536), BUCKETS)
    return mb / (time.perf_counter() - t0)


def _kl(pool: pa.Table, target_texts: list[str], chosen: dict[str, np.ndarray]) -> dict[str, float]:
    from datadiet.io import uniform_keys
    from datadiet.metrics import kl_reduction
    from datadiet.signals import hashed_ngrams

    ids = pool.column("id").to_numpy()
    nb = hashed_ngrams(pool.column("text"), BUCKETS)
    tgt = hashed_ngrams(target_texts, BUCKETS).counts(BUCKETS)
    k = min(len(v) for v in chosen.values())
    rnd = np.zeros(len(ids), bool)
    rnd[np.argsort(uniform_keys(ids, 12345))[:k]] = True
    rnd_c = nb.counts(BUCKETS, rnd)
    out = {}
    for name, sel_ids in chosen.items():
        mask = np.isin(ids, sel_ids)
        out[name] = kl_reduction(tgt, nb.counts(BUCKETS, mask), rnd_c)
    return out


def main(argv: list[str]) -> None:
    skip_ref = "--skip-ref" in argv
    sizes = [int(a) for a in argv if a.isdigit()] or [200_000, 1_000_000]
    OUT.mkdir(exist_ok=True)
    from datadiet._testing import bbc_news

    bbc = bbc_news()
    target_texts = bbc.filter(pc.equal(bbc["topic"], "tech")).column("text").to_pylist()
    target = OUT / "dsir_target_tech.jsonl"
    _write_jsonl(pa.table({"text": target_texts}), target)
    rows = []
    for n in sizes:
        pool = load_pool(n)
        print(f"pool {n:,}: {describe(pool)}", file=sys.stderr)
        path = OUT / f"dsir_pool_{n}.jsonl"
        _write_jsonl(pool.select(["id", "text"]), path)
        k = n // 10
        work = OUT / f"dsir_work_{n}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        ours = run_isolated(_OURS.format(pool=str(path), target=str(target), k=k, jobs=JOBS, buckets=BUCKETS,
                                         cache=str(work / "cache"), out=str(work / "ours.npy")))
        chosen = {"datadiet": np.load(work / "ours.npy")}
        ref = None
        if not skip_ref:
            ref = run_isolated(_REF.format(pool=str(path), target=str(target), k=k, jobs=JOBS, buckets=BUCKETS,
                                           cache=str(work / "ref_cache"), outdir=str(work / "ref_out"),
                                           out=str(work / "ref.npy")))
            chosen["reference"] = np.load(work / "ref.npy")
        kl = _kl(pool, target_texts, chosen)
        texts = pool.column("text").combine_chunks()
        mb = pc.sum(pc.binary_length(texts)).as_py() / 1e6
        rate = _featurize_rate(texts)
        rows.append((n, mb, k, ours, ref, kl, rate))
        print(rows[-1], file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    lines = [
        "| pool docs | text MB | budget | datadiet wall s | reference wall s | speed-up | "
        "KL red. datadiet | KL red. reference | peak RSS datadiet MB | peak RSS reference MB | "
        "featurize MB/s/core |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, mb, k, ours, ref, kl, rate in rows:
        rw = f"{ref['wall_s']:.1f}" if ref else "—"
        sp = f"{ref['wall_s'] / ours['wall_s']:.1f}x" if ref else "—"
        kr = f"{kl['reference']:.4f}" if ref else "—"
        rm = f"{ref['tree_peak_mb']:.0f}" if ref else "—"
        lines.append(f"| {n:,} | {mb:.1f} | {k:,} | {ours['wall_s']:.1f} | {rw} | {sp} | {kl['datadiet']:.4f} | "
                     f"{kr} | {ours['tree_peak_mb']:.0f} | {rm} | {rate:.1f} |")
    write_markdown("dsir", "\n".join(lines) + "\n")
