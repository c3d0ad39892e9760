"""``datadiet select --method dsir`` end to end on real text."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from click.testing import CliRunner

from datadiet._testing import write_jsonl
from datadiet.cli import cli as main
from datadiet.io import Selection


@pytest.fixture
def files(bbc, rt, tmp_path):
    tech = bbc.filter(pc.equal(bbc["topic"], "tech")).select(["text"]).slice(0, 150)
    pool = pa.concat_tables([
        bbc.select(["id", "text"]).take(np.arange(0, bbc.num_rows, 2)),
        rt.select(["text"]).slice(0, 3000).add_column(0, "id", pa.array([f"rt/{i}" for i in range(3000)])),
    ])
    return write_jsonl(pool, tmp_path / "pool.jsonl"), write_jsonl(tech, tmp_path / "tech.jsonl"), tmp_path


def test_select_toward_target_writes_kl_reduction(files):
    pool, target, d = files
    out = d / "sel.parquet"
    r = CliRunner().invoke(main, ["select", str(pool), "--method", "dsir", "--target", str(target), "--text",
                                  "text", "--id", "id", "--budget", "100", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "kl_reduction" in r.output
    man = json.loads((d / "sel.manifest.json").read_text())
    assert man["method"] == "dsir" and man["metrics"]["kl_reduction"] > 0.05
    sel = Selection.read(out)
    kept = np.asarray(sel.ids.to_pylist())[sel.kept]
    assert np.mean([k.startswith("tech/") for k in kept]) > 0.8
    w = d / "w.parquet"
    r = CliRunner().invoke(main, ["select", str(pool), "--method", "dsir", "--target", str(target), "--text",
                                  "text", "--id", "id", "--mode", "weights", "--clip", "5", "-o", str(w)])
    assert r.exit_code == 0, r.output
    ws = Selection.read(w)
    assert ws.weight[ws.kept].max() == pytest.approx(5.0)
    np.testing.assert_allclose(np.asarray(ws.extra["log_weight"]), np.asarray(sel.extra["log_weight"]))


@pytest.mark.parametrize(("extra", "message"), [
    ([], "Missing option '--target'"),
    (["--target", "EMPTY"], "no rows"),
    (["--target", "TARGET", "--target-text", "body"], "not found"),
    (["--target", "TARGET", "--budget", "100000"], "allow-all"),
    (["--target", "TARGET", "--target", "TARGET"], "given more than once"),
    (["--target", "TARGET", "--target", "POOL", "--target-text", "text,text,text"], "3 columns but there are 2"),
    (["--target", "TARGET", "--mode", "upsample"], "resample"),
])
def test_bad_input_exits_2_without_output(files, extra, message):
    pool, target, d = files
    empty = d / "empty.jsonl"
    empty.write_text("")
    extra = [{"TARGET": str(target), "EMPTY": str(empty), "POOL": str(pool)}.get(e, e) for e in extra]
    if "--budget" not in extra:
        extra += ["--budget", "10"]
    out = d / "bad.parquet"
    r = CliRunner().invoke(main, ["select", str(pool), "--method", "dsir", "--text", "text", "-o", str(out),
                                  *extra])
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output
    assert not out.exists()


def test_each_target_reads_its_own_text_column(bbc, files):
    """Two targets whose text columns have different names: ``--target-text title_col,body``."""
    pool, _, d = files
    sport = bbc.filter(pc.equal(bbc["topic"], "sport")).slice(0, 150)
    tech = bbc.filter(pc.equal(bbc["topic"], "tech")).slice(0, 150)
    a = write_jsonl(pa.table({"headline": sport["text"]}), d / "sport.jsonl")
    b = write_jsonl(pa.table({"body": tech["text"]}), d / "tech2.jsonl")
    out = d / "two.parquet"
    args = ["select", str(pool), "--method", "dsir", "--target", str(a), "--target", str(b), "--text", "text",
            "--id", "id", "--budget", "200", "-o", str(out)]
    r = CliRunner().invoke(main, [*args, "--target-text", "headline,body"])
    assert r.exit_code == 0, r.output
    kept = np.asarray(Selection.read(out).ids.to_pylist())[Selection.read(out).kept]
    assert np.mean([k.startswith("sport/") for k in kept]) > 0.3
    assert np.mean([k.startswith("tech/") for k in kept]) > 0.3
    man = json.loads((d / "two.manifest.json").read_text())
    assert man["params"]["target_text"] == "headline,body"
    bad = d / "bad.parquet"
    r = CliRunner().invoke(main, [*args[:-1], str(bad), "--target-text", "headline"])
    assert r.exit_code == 2 and "column 'headline' not found in target" in r.output and not bad.exists()
