"""One Ray session for every Ray test: a script runs all Ray work once, inside a loopback-only network
namespace, with a capped object store and its temp dir under the test's tmp path; tests read its outputs."""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).parents[2]
SCRIPT = Path(__file__).with_name("ray_script.py")


def write_shards(bbc, d):
    """BBC News as 5 JSONL shards (two in sub-folders), so Ray has several tasks."""
    rows = bbc.drop_columns(["id"]).to_pylist()
    for i, part in enumerate(np.array_split(np.arange(len(rows)), 5)):
        sub = d / f"part{i}" if i % 2 else d
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"s{i}.jsonl").write_text("".join(json.dumps(rows[j]) + "\n" for j in part))
    return d


def write_vectors(vec, d):
    import pyarrow as pa
    import pyarrow.parquet as pq

    d.mkdir(parents=True, exist_ok=True)
    for i, part in enumerate(np.array_split(np.arange(len(vec)), 3)):
        flat = pa.array(np.ascontiguousarray(vec[part]).ravel())
        pq.write_table(pa.table({"v": pa.FixedSizeListArray.from_arrays(flat, vec.shape[1])}), d / f"p{i}.parquet")
    return d


def write_parquet_shards(table, d, parts):
    """``table`` as ``parts`` Parquet shards (Rotten Tomatoes with its null texts, for streamed dedup)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    d.mkdir(parents=True, exist_ok=True)
    for i, idx in enumerate(np.array_split(np.arange(table.num_rows), parts)):
        pq.write_table(table.take(pa.array(idx)), d / f"p{i}.parquet")
    return d


@pytest.fixture(scope="session")
def ray_run(bbc, rt_nulls, tmp_path_factory):
    """Run tests/engine/ray_script.py once under Ray; returns the folder of its inputs and outputs."""
    pytest.importorskip("ray")
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("Ray tests need `unshare` and `ip` to run Ray in a loopback-only network namespace")
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a network namespace here (needs root): {probe.stderr.decode().strip()}")
    base = tmp_path_factory.mktemp("ray")
    write_shards(bbc, base / "shards")
    write_shards(bbc, base / "shards_cli")
    write_parquet_shards(rt_nulls, base / "rt_nulls", 4)
    from datadiet.index import kmeans
    from datadiet.signals import embed_source

    vec = np.asarray(embed_source(base / "shards", "text", "static", cache=False))
    write_vectors(vec, base / "vectors")
    np.save(base / "vectors" / "centroids.npy", kmeans(vec, 6, spherical=True, seed=0).centroids)
    # Ray's socket paths must stay under 107 bytes: a short folder under the test's tmp root
    ray_tmp = Path(tempfile.mkdtemp(prefix="r", dir=tmp_path_factory.getbasetemp()))
    if len(str(ray_tmp)) > 40:
        ray_tmp = Path(tempfile.mkdtemp(prefix="ddray", dir="/tmp"))
    cmd = (f"ip link set lo up && RAY_USAGE_STATS_ENABLED=0 HF_HUB_OFFLINE=1 PYTHONPATH={ROOT}/src:{ROOT} "
           f"{sys.executable} {SCRIPT} {base} {ray_tmp}")
    res = subprocess.run(["unshare", "--net", "bash", "-c", cmd], capture_output=True, text=True, timeout=900,
                         cwd=str(ROOT))
    shutil.rmtree(ray_tmp, ignore_errors=True)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-4000:]
    assert (base / "out" / "done").exists(), res.stderr[-4000:]
    return base


def texts_of(d):
    """The text column of a folder of shards, in the engines' (file) order."""
    from datadiet import Columns, load_signals

    return load_signals(d, Columns(text="text"), keep_text=True).text
