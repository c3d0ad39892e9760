"""Issue 4: facility location vs apricot-select and submodlib-py; faiss k-means on 1M x 384.

Data: the first 200 characters of the first N paragraphs of the real-text bench
pool embedded with all-MiniLM-L6-v2 (384-d, unit vectors; cached under bench/out/cache). Each tool
runs in its own child process (own peak RSS) on the same vectors and budget; datadiet twice,
with its default coverage metrics and with ``coverage=False`` (the peers measure nothing of the kind).
Every selection is scored on the same dense objective
``F(S) = sum_i max_{j in S} max(0, cos(x_i, x_j))`` over all N points (computed
exactly with faiss), so the figures compare like with like whatever kernel each
tool builds internally. submodlib builds a dense N x N kernel in Python and is
run on the first ``--submodlib-n`` points (datadiet runs on the same subset).

k-means: ``--kmeans-n`` unit vectors in 384-d (a mixture of 2,000 Gaussian
clusters, written to a memory-mapped .npy in blocks) clustered into 1,000
spherical clusters by ``datadiet.index.kmeans`` in a child process: time and
peak RSS (the input alone is 1.5 GB for 1M rows).

Run: ``python -m bench facility_speed [--n 20000] [--budget 1000] [--submodlib-n 10000] [--kmeans-n 1000000]``
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from bench._util import OUT, run_isolated, write_markdown  # noqa: E402

CHILD_DATADIET = """
import json, time, numpy as np, pyarrow as pa
from datadiet.select import FacilityLocationSelector
pa.array(np.zeros(1))  # pyarrow imports pandas on first use (1-3 s here): an import, kept outside the timer like the peers'
import faiss, scipy.sparse  # imported lazily by datadiet; before the timer, as apricot's import brings in its numba, scipy and sklearn
x = np.load({path!r}, mmap_mode="r")[:{n}]
t = time.perf_counter()
sel = FacilityLocationSelector(budget={budget}, n_neighbors={nn}, coverage={coverage}).fit(vectors=x)
print(json.dumps({{"seconds": time.perf_counter() - t, "selected": sel.selected_indices_.tolist()}}))
"""

CHILD_APRICOT = """
import json, time, numpy as np
from apricot import FacilityLocationSelection
x = np.ascontiguousarray(np.load({path!r})[:{n}], dtype=np.float64)
t = time.perf_counter()
sel = FacilityLocationSelection({budget}, metric="cosine", optimizer="lazy").fit(x)
print(json.dumps({{"seconds": time.perf_counter() - t, "selected": [int(i) for i in sel.ranking]}}))
"""

CHILD_SUBMODLIB = """
import json, time, numpy as np
from submodlib import FacilityLocationFunction
x = np.ascontiguousarray(np.load({path!r})[:{n}], dtype=np.float64)
t = time.perf_counter()
f = FacilityLocationFunction(n=len(x), mode="dense", data=x, metric="cosine")
built = time.perf_counter() - t
res = f.maximize(budget={budget}, optimizer="LazyGreedy", show_progress=False)
print(json.dumps({{"seconds": time.perf_counter() - t, "kernel_seconds": built,
                   "selected": [int(i) for i, _ in res]}}))
"""

CHILD_KMEANS = """
import json, threading, time, numpy as np
from datadiet.index import kmeans
_anon = [0.0]
def _sample():  # anonymous memory only: pages of the memory-mapped input are page cache, not heap
    while True:
        for line in open("/proc/self/status"):
            if line.startswith("RssAnon:"):
                _anon[0] = max(_anon[0], int(line.split()[1]) / 1024)
        time.sleep(0.05)
threading.Thread(target=_sample, daemon=True).start()
x = np.load({path!r}, mmap_mode="r")
t = time.perf_counter()
res = kmeans(x, {k}, spherical=True, seed=0)
sizes = res.sizes()
print(json.dumps({{"seconds": time.perf_counter() - t, "empty": int((sizes == 0).sum()),
                   "mean_distance": float(res.distances.mean()), "peak_anon_mb": _anon[0]}}))
"""


def vectors(n: int) -> str:
    from bench._pool import load_pool
    from datadiet.signals import embed_source

    path = OUT / f"pool_minilm_{n}.npy"
    if not path.exists():
        import pyarrow.compute as pc

        pool = load_pool(n)
        short = pool.set_column(pool.column_names.index("text"), "text",
                                pc.utf8_slice_codeunits(pool.column("text"), 0, 200))
        vec = embed_source(short, "text", "minilm", cache_dir=OUT / "cache")
        np.save(path, np.asarray(vec, dtype=np.float32))
    return str(path)


def objective(path: str, n: int, selected: list[int]) -> float:
    from datadiet.index import knn

    x = np.load(path, mmap_mode="r")[:n]
    d, _ = knn(x, np.asarray(x)[np.asarray(selected)], 1, metric="cosine")
    return float(np.maximum(1.0 - d[:, 0], 0.0).sum())


def synthetic(n: int, d: int = 384, centres: int = 2000) -> str:
    path = OUT / f"kmeans_{n}x{d}.npy"
    if path.exists():
        return str(path)
    rng = np.random.default_rng(0)
    c = rng.standard_normal((centres, d)).astype(np.float32)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    for s in range(0, n, 100_000):
        m = min(100_000, n - s)
        block = c[rng.integers(0, centres, m)] + 0.7 * rng.standard_normal((m, d)).astype(np.float32)
        out[s:s + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    out.flush()
    del out
    return str(path)


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench facility_speed")
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--budget", type=int, default=1000)
    ap.add_argument("--neighbors", type=int, default=50)
    ap.add_argument("--submodlib-n", type=int, default=10000)
    ap.add_argument("--apricot-n", type=int, nargs="+", default=[10000, 20000],
                    help="point counts for apricot (each run side by side with datadiet on the same points)")
    ap.add_argument("--kmeans-n", type=int, default=1_000_000)
    ap.add_argument("--kmeans-k", type=int, default=1000)
    ap.add_argument("--skip", default="", help="comma list of: apricot, submodlib, kmeans")
    ap.add_argument("--peer-openblas-coretype", default="",
                    help="OPENBLAS_CORETYPE for the peers' children only (e.g. Haswell): numpy's bundled OpenBLAS "
                         "0.3.31 picks its SkylakeX kernel on this AMD EPYC and segfaults in threaded float64 "
                         "x @ x.T from about 16,000 rows, which is apricot's dense kernel at 20,000 points")
    a = ap.parse_args(argv)
    skip = set(a.skip.split(","))
    path = vectors(max([a.n, *a.apricot_n]))
    from datadiet.select import FacilityLocationSelector

    part = FacilityLocationSelector.declared()["partition_size"].default
    rows = ["| tool | points | budget | wall s | peak RSS MB | objective | objective / peer | speed-up |",
            "|---|---|---|---|---|---|---|---|"]
    runs = [("apricot-select 0.6.1 (lazy greedy, dense)", CHILD_APRICOT, n) for n in a.apricot_n] \
        if "apricot" not in skip else []
    if "submodlib" not in skip:
        runs.append(("submodlib-py 0.0.3 (LazyGreedy, dense kernel)", CHILD_SUBMODLIB, a.submodlib_n))
    if not runs:
        runs = [("(no peer)", None, a.n)]
    notes = []
    for peer, code, n in runs:
        # the default fit measures the selection's coverage (a nearest-pick search of every row) for the
        # manifest; coverage=False skips it, as apricot has nothing of the kind: both are timed, each in its child
        ours, lines = [], []
        for coverage in (True, False):
            o = run_isolated(CHILD_DATADIET.format(path=path, n=n, budget=a.budget, nn=a.neighbors, coverage=coverage))
            f_o = objective(path, n, o["selected"])
            ours.append((o, f_o))
            lines.append(f"| datadiet facility-location (kNN {a.neighbors}, partitions of {part:,}"
                         f"{'' if coverage else ', coverage=False'}) | {n:,} | {a.budget:,} | "
                         f"{o['seconds']:.2f} | {o['peak_rss_mb']:.0f} | {f_o:.1f} |")
        if code is None:
            rows += [line + " | |" for line in lines]
            continue
        try:
            peer_env = {"OPENBLAS_CORETYPE": a.peer_openblas_coretype} if a.peer_openblas_coretype else None
            theirs = run_isolated(code.format(path=path, n=n, budget=a.budget), env=peer_env)
        except RuntimeError as e:  # report a peer's crash (e.g. a segfault) instead of losing the table
            rows += [line + " | |" for line in lines]
            rows.append(f"| {peer} | {n:,} | {a.budget:,} | crashed | | | | |")
            notes.append(f"{peer} at {n:,} points failed: {str(e).strip().splitlines()[-1][:200]}")
            continue
        f_theirs = objective(path, n, theirs["selected"])
        rows += [line + f" {f_o / f_theirs:.4f} | {theirs['seconds'] / o['seconds']:.1f}x |"
                 for line, (o, f_o) in zip(lines, ours)]
        if peer_env:
            notes.append(f"{peer} at {n:,} points ran with OPENBLAS_CORETYPE={a.peer_openblas_coretype}.")
        rows.append(f"| {peer} | {n:,} | {a.budget:,} | {theirs['seconds']:.2f} | {theirs['peak_rss_mb']:.0f} | "
                    f"{f_theirs:.1f} | 1 | 1x |")
        if "kernel_seconds" in theirs:
            notes.append(f"submodlib spent {theirs['kernel_seconds']:.1f} s of {theirs['seconds']:.1f} s "
                         "building its dense kernel.")
    text = ["### Facility location (MiniLM vectors of the real-text pool)", "", *rows, "", *notes, ""]
    if "kmeans" not in skip:
        kpath = synthetic(a.kmeans_n)
        km = run_isolated(CHILD_KMEANS.format(path=kpath, k=a.kmeans_k))
        text += ["### faiss k-means in bounded memory", "",
                 "| rows x dim | k | wall s | peak RSS MB (incl. mapped input pages) | peak anonymous MB | "
                 "input size MB | empty clusters |",
                 "|---|---|---|---|---|---|---|",
                 f"| {a.kmeans_n:,} x 384 | {a.kmeans_k:,} | {km['seconds']:.1f} | {km['peak_rss_mb']:.0f} | "
                 f"{km['peak_anon_mb']:.0f} | "
                 f"{a.kmeans_n * 384 * 4 / 2**20:.0f} | {km['empty']} |", ""]
    write_markdown("facility_speed", "\n".join(text))
