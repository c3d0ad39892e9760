"""`datadiet embed`, `datadiet cluster` and the embedding methods of `datadiet select`, as subprocesses."""

import json
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

DATADIET = [sys.executable, "-m", "datadiet"]


def run(*args, cwd=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OPENBLAS_NUM_THREADS": "1"}
    env.pop("DATADIET_CACHE_DIR", None)
    return subprocess.run([*DATADIET, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env)


def assert_user_error(res, *fragments):
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert len([x for x in res.stderr.strip().splitlines() if x.strip()]) == 1, res.stderr
    for f in fragments:
        assert f in res.stderr, (f, res.stderr)


@pytest.fixture
def rt_jsonl(rt, tmp_path):
    from datadiet._testing import write_jsonl

    return write_jsonl(rt.slice(0, 1200), tmp_path / "rt.jsonl")


def test_embed_cluster_select_from_cached_signal(rt_jsonl, tmp_path):
    before = rt_jsonl.read_bytes()
    res = run("embed", rt_jsonl, "--text", "text", "--model", "hashed:64", "-o", tmp_path / "v.npy")
    assert res.returncode == 0, res.stderr
    vec = np.load(tmp_path / "v.npy")
    assert vec.shape == (1200, 64)
    res = run("cluster", rt_jsonl, "--text", "text", "--model", "hashed:64", "--k", "12", "-o", tmp_path / "cl.parquet")
    assert res.returncode == 0, res.stderr
    cl = pq.read_table(tmp_path / "cl.parquet")
    assert cl.column_names == ["id", "cluster", "distance"] and cl.num_rows == 1200
    assert len(set(cl.column("cluster").to_pylist())) == 12
    # the embedding signal is reused: no --model needed any more
    for method in ("auto", "facility-location", "kcenter", "prototypes", "diversify", "cluster-balanced",
                   "herding"):
        out = tmp_path / f"{method}.parquet"
        res = run("select", rt_jsonl, "--id", "id", "--text", "text", "--method", method, "--budget", "5%", "-o", out)
        assert res.returncode == 0, (method, res.stderr)
        m = json.loads(out.with_suffix(".manifest.json").read_text())
        assert m["n_kept"] == 60 and m["method"] == method
        assert 0 < m["metrics"]["coverage"]["clusters_covered"] <= 1
        assert m["vectors"]["text"] == "text"
        assert "cluster" in pq.read_table(out).column_names
    # --no-coverage: the same rows, no distance metrics in the manifest
    out = tmp_path / "fl-off.parquet"
    res = run("select", rt_jsonl, "--id", "id", "--text", "text", "--method", "facility-location", "--budget", "5%",
              "--no-coverage", "-o", out)
    assert res.returncode == 0, res.stderr
    cov = json.loads(out.with_suffix(".manifest.json").read_text())["metrics"]["coverage"]
    assert "mean_distance_to_selected" not in cov and "facility_objective" in cov
    assert pq.read_table(out).column("id").equals(pq.read_table(tmp_path / "facility-location.parquet").column("id"))
    assert rt_jsonl.read_bytes() == before


def test_cluster_restarts_keep_the_lowest_inertia_and_reject_zero(rt_jsonl, tmp_path):
    total = {}
    for r in (1, 4):
        res = run("cluster", rt_jsonl, "--text", "text", "--model", "hashed:64", "--k", "12", "--restarts", r,
                  "-o", tmp_path / f"cl{r}.parquet")
        assert res.returncode == 0, res.stderr
        total[r] = float(pc.sum(pq.read_table(tmp_path / f"cl{r}.parquet").column("distance")).as_py())
    assert total[4] <= total[1]  # the first of the four runs is the one-run clustering
    res = run("cluster", rt_jsonl, "--text", "text", "--model", "hashed:64", "--k", "12", "--restarts", 0)
    assert res.returncode == 2 and "restarts must be a positive integer" in res.stderr
    assert "Traceback" not in res.stderr


def test_selectors_use_the_stored_cluster_signal_when_its_parameters_match(rt_jsonl, tmp_path):
    # fitted on 60 rows only, so these clusters differ from what a selector would compute itself
    res = run("cluster", rt_jsonl, "--text", "text", "--model", "hashed:64", "--k", "12", "--max-train", "60",
              "-o", tmp_path / "cl.parquet")
    assert res.returncode == 0, res.stderr
    stored = pq.read_table(tmp_path / "cl.parquet").column("cluster").to_numpy()
    for k, expect in ((12, "stored"), (11, "computed")):
        out = tmp_path / f"div{k}.parquet"
        res = run("select", "diversify", rt_jsonl, "--id", "id", "--text", "text", "--model", "hashed:64",
                  "--clusters", k, "--budget", "5%", "-o", out)
        assert res.returncode == 0, res.stderr
        m = json.loads(out.with_suffix(".manifest.json").read_text())
        assert m["metrics"]["coverage"]["clusters_from"] == expect
        labels = pq.read_table(out).column("cluster").to_numpy()
        assert np.array_equal(labels, stored) == (expect == "stored")
    # prototypes from several k-means initialisations do not reuse a one-run clustering
    out = tmp_path / "proto.parquet"
    res = run("select", "prototypes", rt_jsonl, "--id", "id", "--text", "text", "--model", "hashed:64",
              "--clusters", 12, "--restarts", 3, "--budget", "5%", "-o", out)
    assert res.returncode == 0, res.stderr
    assert json.loads(out.with_suffix(".manifest.json").read_text())["metrics"]["coverage"]["clusters_from"] == "computed"


def test_select_from_vectors_column(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 8)).astype(np.float32)
    path = tmp_path / "v.parquet"
    pq.write_table(pa.table({"id": np.arange(300), "emb": pa.array(x.tolist(), pa.list_(pa.float32()))}), path)
    out = tmp_path / "sel.parquet"
    res = run("select", path, "--id", "id", "--vectors", "emb", "--method", "kcenter", "--metric", "l2",
              "--budget", "30", "-o", out)
    assert res.returncode == 0, res.stderr
    assert pq.read_table(out).column("kept").to_numpy().sum() == 30
    x[41, 5] = np.nan  # a NaN in one vector: one line naming its id, nothing written
    pq.write_table(pa.table({"id": np.arange(300), "emb": pa.array(x.tolist(), pa.list_(pa.float32()))}), path)
    nan_out = tmp_path / "nan.parquet"
    assert_user_error(run("select", path, "--id", "id", "--vectors", "emb", "--method", "facility-location",
                          "--budget", "30", "-o", nan_out), "NaN or infinite values (id 41 is the first)")
    assert not nan_out.exists()
    # the cluster command names the row too (k-means alone only sees its training sample)
    assert_user_error(run("cluster", path, "--id", "id", "--vectors", "emb", "--k", "5", "--max-train", "50",
                          "-o", nan_out), "NaN or infinite values (id 41 is the first)")
    assert not nan_out.exists()


def test_bad_input_is_one_line(rt_jsonl, tmp_path):
    out = tmp_path / "sel.parquet"
    assert_user_error(run("select", rt_jsonl, "--method", "kcenter", "--budget", "10", "-o", out), "--vectors")
    assert_user_error(run("embed", rt_jsonl, "--text", "text", "--model", "org/some-hub-model"),
                      "never downloads")
    assert_user_error(run("embed", rt_jsonl, "--text", "body", "--model", "hashed"), "'body' not found")
    assert_user_error(run("cluster", rt_jsonl, "--text", "text", "--model", "hashed:16", "--k", "5000"), "k must be")
    assert_user_error(run("select", rt_jsonl, "--text", "text", "--model", "hashed:16", "--method", "auto",
                          "--budget", "1M-tokens", "-o", out), "does not take a token budget")
    assert not out.exists()
