"""Local and Ray engines give the same ids, signals and selections for the same seed."""

import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from datadiet import Columns, GroupBalanceSelector, load_signals
from datadiet.engine import LocalEngine, Step, get_engine


def _shards(bbc, d):
    rows = bbc.drop_columns(["id"]).to_pylist()
    for i, part in enumerate(np.array_split(np.arange(len(rows)), 5)):
        sub = d / f"part{i}" if i % 2 else d
        sub.mkdir(exist_ok=True)
        (sub / f"s{i}.jsonl").write_text("".join(json.dumps(rows[j]) + "\n" for j in part))
    return d


class Upper(Step):
    columns = ["title"]

    def setup(self):
        self.ready = True

    def process_batch(self, batch):
        assert self.ready
        return pa.table({"upper": pa.compute.utf8_upper(batch.table.column("title"))})


def test_local_engine_runs_a_step_in_order(bbc):
    out = LocalEngine().run(bbc, Upper(), batch_size=100)
    assert out.column("upper").to_pylist() == [t.upper() for t in bbc.column("title").to_pylist()]
    with pytest.raises(ValueError, match="engine must be"):
        get_engine("spark")


RAY_SCRIPT = """
import json, sys
from pathlib import Path
import ray
from datadiet import Columns, GroupBalanceSelector, load_signals
from datadiet.engine import RayEngine
from tests.engine.test_engines import Upper

d = Path(sys.argv[1])
ray.init(num_cpus=2, object_store_memory=200 * 1024**2, include_dashboard=False,
         _temp_dir=sys.argv[2], log_to_driver=False)
cols = Columns(text="text", group="topic")
sig = load_signals(d, cols, need_tokens=True, batch_size=97, engine="ray")
sel = GroupBalanceSelector(budget=700, alpha=0.0, seed=11).fit(sig).selection_
upper = RayEngine().run(d, Upper()).column("upper").to_pylist()
ray.shutdown()
print(json.dumps({"ids": sig.ids.to_pylist(), "tokens": sig.tokens.tolist(), "groups": sig.groups.tolist(),
                  "kept": [i for i, k in zip(sig.ids.to_pylist(), sel.kept) if k], "upper": upper}))
"""


@pytest.mark.slow
def test_ray_engine_matches_local(bbc, tmp_path):
    pytest.importorskip("ray")
    if shutil.which("unshare") is None:
        pytest.skip("needs `unshare` to run Ray in a loopback-only network namespace")
    d = _shards(bbc, tmp_path / "shards")
    script = tmp_path / "run_ray.py"
    script.write_text(textwrap.dedent(RAY_SCRIPT))
    root = Path(__file__).parents[2]
    ray_tmp = tempfile.mkdtemp(prefix="ddray", dir="/tmp")  # Ray's socket paths must stay under 107 bytes
    cmd = (f"ip link set lo up && RAY_USAGE_STATS_ENABLED=0 PYTHONPATH={root} "
           f"{sys.executable} {script} {d} {ray_tmp}")
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a network namespace here (needs root): {probe.stderr.decode().strip()}")
    res = subprocess.run(["unshare", "--net", "bash", "-c", cmd], capture_output=True, text=True, timeout=600,
                         cwd=str(root))
    shutil.rmtree(ray_tmp, ignore_errors=True)
    assert res.returncode == 0, res.stderr[-3000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])

    cols = Columns(text="text", group="topic")
    sig = load_signals(d, cols, need_tokens=True, batch_size=1000)
    sel = GroupBalanceSelector(budget=700, alpha=0.0, seed=11).fit(sig).selection_
    assert got["ids"] == sig.ids.to_pylist()
    assert got["tokens"] == sig.tokens.tolist()
    assert got["groups"] == sig.groups.tolist()
    assert got["kept"] == [i for i, k in zip(sig.ids.to_pylist(), sel.kept) if k]
    assert len(got["kept"]) == 700
    assert got["upper"] == [r["title"].upper() for r in map(json.loads, _lines(d))]


def _lines(d):
    from datadiet.io import open_source

    for f in open_source(d).files:
        yield from f.read_text().splitlines()
