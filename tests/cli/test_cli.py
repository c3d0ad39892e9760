"""The real `datadiet` command, run as a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

DATADIET = [sys.executable, "-m", "datadiet"]


def run(*args, cwd=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([*DATADIET, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env)


def assert_user_error(res, *fragments):
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    lines = [x for x in res.stderr.strip().splitlines() if x.strip()]
    assert len(lines) == 1 or lines[0].startswith("Usage:"), res.stderr
    for f in fragments:
        assert f in res.stderr, (f, res.stderr)


def test_select_then_apply_balance(bbc_jsonl, tmp_path):
    sel = tmp_path / "sel.parquet"
    res = run("select", bbc_jsonl, "--id", "id", "--text", "text", "--group", "topic", "--method", "balance",
              "--alpha", "0", "--mode", "upsample", "--max-repeats", "2", "--budget", "3000", "-o", sel)
    assert res.returncode == 0, res.stderr
    manifest = json.loads((tmp_path / "sel.manifest.json").read_text())
    # the summary shows the manifest's counts
    assert f"{manifest['n_kept']:,}" in res.stdout and f"{manifest['total_repeats']:,}" in res.stdout
    assert manifest["total_repeats"] == 3000
    assert manifest["columns"] == {"id": "id", "text": "text", "group": "topic"}
    assert manifest["input_fingerprint"]
    out = tmp_path / "kept.jsonl"
    res = run("apply", sel, bbc_jsonl, "-o", out)
    assert res.returncode == 0, res.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 3000
    topics = {}
    for r in rows:
        topics[r["topic"]] = topics.get(r["topic"], 0) + 1
    assert set(topics.values()) == {600}


def test_select_random_token_budget_and_seed(bbc_jsonl, tmp_path):
    a, b, c = (tmp_path / f"{x}.parquet" for x in "abc")
    for path, seed in ((a, 1), (b, 1), (c, 2)):
        res = run("select", bbc_jsonl, "--text", "text", "--budget", "100K-tokens", "--seed", seed, "-o", path, "-q")
        assert res.returncode == 0, res.stderr
        assert res.stdout == ""
    ka, kb, kc = (pq.read_table(p).filter(pq.read_table(p).column("kept")).column("id").to_pylist() for p in (a, b, c))
    assert ka == kb and ka != kc
    assert all("/" in i for i in ka)  # the input's column "id" (topic/NNN), used by default (issue 10)


def test_info(bbc_jsonl):
    res = run("info", bbc_jsonl, "--text", "text", "--group", "topic")
    assert res.returncode == 0, res.stderr
    assert "2,225" in res.stdout and "sport" in res.stdout and "511" in res.stdout
    assert "cached signals" in res.stdout


def test_help_has_worked_examples():
    for cmd in ("select", "apply", "info", "demo", "dedup", "embed", "cluster", "report"):
        res = run(cmd, "--help")
        assert res.returncode == 0
        assert "Example" in res.stdout, cmd


@pytest.mark.parametrize("args,fragments", [
    (["--budget", "0"], ["budget must be positive"]),
    (["--budget", "-5"], ["budget"]),
    (["--budget", "9999"], ["at most the 2225 examples", "--allow-all"]),
    (["--budget", "ten"], ["cannot read budget"]),
    (["--budget", "10", "--group", "nope", "--method", "balance"], ["'nope' not found", "columns that exist"]),
    (["--budget", "10", "--method", "bogus"], ["unknown method 'bogus'", "random"]),
    (["--budget", "10", "--method", "topk"], ["needs a score column", "--score"]),
    (["--budget", "10", "--method", "balance", "--group", "topic", "--quotas", "tech=x"], ["--quotas", "tech=x"]),
    (["--method", "random"], ["Missing option '--budget'"]),
    (["--budget", "5", "--method", "random", "--alpha", "0.3"], ["No such option", "--alpha"]),
])
def test_bad_select_input_exit_2_and_nothing_written(bbc_jsonl, tmp_path, args, fragments):
    out = tmp_path / "sel.parquet"
    before = bbc_jsonl.read_bytes()
    res = run("select", bbc_jsonl, "-o", out, *args)
    assert_user_error(res, *fragments)
    assert not out.exists() and not (tmp_path / "sel.manifest.json").exists()
    assert bbc_jsonl.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["bbc.jsonl"]


def test_bad_files(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a"}\n{"text": oops}\n')
    assert_user_error(run("select", bad, "--budget", "1", "--text", "text", "-o", tmp_path / "s.parquet"),
                      "bad.jsonl, line 2")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert_user_error(run("select", empty, "--budget", "1", "-o", tmp_path / "s.parquet"), "empty")
    assert_user_error(run("info", tmp_path / "missing.parquet"), "does not exist")
    assert not (tmp_path / "s.parquet").exists()


def test_existing_output_needs_overwrite(bbc_jsonl, tmp_path):
    out = tmp_path / "sel.parquet"
    assert run("select", bbc_jsonl, "--budget", "5", "-o", out, "-q").returncode == 0
    before = out.read_bytes()
    assert_user_error(run("select", bbc_jsonl, "--budget", "6", "-o", out), "already exists", "--overwrite")
    assert out.read_bytes() == before
    assert run("select", bbc_jsonl, "--budget", "6", "-o", out, "--overwrite", "-q").returncode == 0
    kept = tmp_path / "kept.parquet"
    assert run("apply", out, bbc_jsonl, "-o", kept, "-q").returncode == 0
    assert pq.read_table(kept).num_rows == 6
    assert_user_error(run("apply", out, bbc_jsonl, "-o", kept), "already exists")
    assert_user_error(run("apply", tmp_path / "nope.parquet", bbc_jsonl, "-o", tmp_path / "k2.parquet"),
                      "does not exist")


def test_demo_runs_on_real_data(tmp_path):
    res = run("demo", "--out", tmp_path / "demo", "--budget", "500")
    assert res.returncode == 0, res.stderr
    # exact + near duplicates go first (BBC has 98 exact duplicates), then topics are made equal
    assert "kept per topic: business 100/" in res.stdout and "tech 100/" in res.stdout
    dropped = int(res.stdout.split("duplicates dropped: ")[1].split(";")[0])
    assert dropped >= 98
    kept = Path(tmp_path / "demo" / "bbc_balanced.jsonl")
    assert len(kept.read_text().splitlines()) == 500
    report = tmp_path / "demo" / "bbc_balanced.report.html"
    assert f"report:    {report}" in res.stdout
    assert 'data-value="500"' in report.read_text()


def test_balance_alpha_defaults_to_the_natural_mix(bbc_jsonl, tmp_path):
    out = tmp_path / "sel.parquet"
    res = run("select", bbc_jsonl, "--id", "id", "--group", "topic", "--method", "balance", "--budget", "445",
              "-o", out, "-q")
    assert res.returncode == 0, res.stderr
    m = json.loads((tmp_path / "sel.manifest.json").read_text())
    assert m["params"]["alpha"] == 1.0
    assert m["metrics"]["groups"]["sport"]["kept"] == round(445 * 511 / 2225)


@pytest.mark.parametrize(("args", "fragment"), [
    (["-o", "s.parquet", "--report", "r.pdf"], "r.pdf must end in .html"),
    (["-o", "sel.csv"], "sel.csv must end in .parquet"),
])
def test_every_output_path_is_checked_before_any_work(bbc_jsonl, tmp_path, args, fragment):
    res = run("select", bbc_jsonl, "--budget", "5", *[str(tmp_path / a) if "." in a and a[0] != "-" else a
                                                        for a in args])
    assert_user_error(res, fragment)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bbc.jsonl"]
