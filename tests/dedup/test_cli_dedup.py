"""``datadiet dedup`` end to end on BBC News."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from datadiet.cli import cli


@pytest.fixture
def ev_jsonl(bbc, tmp_path):
    from datadiet._testing import write_jsonl

    return write_jsonl(bbc.slice(0, 40), tmp_path / "ev.jsonl")


def test_dedup_cli_writes_a_selection(bbc, bbc_jsonl, tmp_path):
    out = tmp_path / "sel.parquet"
    r = CliRunner().invoke(cli, ["dedup", str(bbc_jsonl), "--text", "text", "--id", "id", "--near", "0.8",
                                 "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "9 bands x 13 rows" in r.output and "false-negative" in r.output
    t = pq.read_table(out)
    kept = np.array(t.column("kept").to_pylist())
    dup = t.column("duplicate_of").to_pylist()
    ids = t.column("id").to_pylist()
    assert all((d is None) == k for d, k in zip(dup, kept, strict=True))
    kept_ids = {i for i, k in zip(ids, kept, strict=True) if k}
    assert {d for d in dup if d is not None} <= kept_ids
    assert set(t.column("dup_method").drop_null().to_pylist()) == {"exact", "near"}
    man = json.loads((tmp_path / "sel.manifest.json").read_text())
    assert man["counts"]["duplicate"] == int((~kept).sum()) >= 150


def test_dedup_cli_against(bbc_jsonl, ev_jsonl, tmp_path):
    out = tmp_path / "sel.parquet"
    r = CliRunner().invoke(cli, ["dedup", str(bbc_jsonl), "--text", "text", "--id", "id", "--near", "0.8",
                                 "--against", str(ev_jsonl), "--only-against", "-o", str(out), "--keep", "longest"])
    assert r.exit_code == 0, r.output
    t = pq.read_table(out)
    reasons = t.column("reason").to_pylist()
    assert reasons.count("contaminated") >= 40 and "duplicate" not in reasons
    assert "training rows duplicate" in r.output


@pytest.mark.parametrize("args, msg", [
    (["--text", "nope"], "column 'nope' not found"),
    (["--text", "text", "--near", "1.5"], "must be a number in (0, 1]"),
    (["--text", "text", "--semantic", "0.9"], "--semantic needs embeddings"),
    (["--text", "text", "--no-exact"], "nothing to do"),
    (["--text", "text", "--keep", "score"], "score must be the name of a score column"),
    (["--text", "text", "--normalize", "stem"], "unknown normalisation step"),
    (["--text", "topic", "--vectors", "text", "--semantic", "0.9", "--no-exact"], "lists of floats"),
])
def test_dedup_cli_bad_input(bbc_jsonl, tmp_path, args, msg):
    out = tmp_path / "sel.parquet"
    before = bbc_jsonl.read_bytes()
    r = CliRunner().invoke(cli, ["dedup", str(bbc_jsonl), "-o", str(out), *args])
    assert r.exit_code == 2, r.output
    assert msg in r.output and "Traceback" not in r.output
    assert not out.exists() and bbc_jsonl.read_bytes() == before
