"""Issue 10: real-world data through the CLI (damaged files, encodings, nulls, column defaults)."""

import json

import pyarrow.parquet as pq
import pytest

from datadiet import Columns, load_signals, open_source
from datadiet.select import RandomSelector
from tests.cli.test_cli import assert_user_error, run
from tests.io.test_read import _latin1_line_jsonl


def test_bad_encoding_same_error_in_every_command_and_skip_applies(bbc, tmp_path):
    p = tmp_path / "mixed.jsonl"
    rows, bad = _latin1_line_jsonl(bbc, p)
    where = f"mixed.jsonl, line {bad + 1}: byte 0xa3"
    assert_user_error(run("info", p), where)
    assert_user_error(run("select", p, "--id", "id", "--budget", "10", "-o", tmp_path / "s.parquet"), where)
    assert not (tmp_path / "s.parquet").exists()
    assert_user_error(run("embed", p, "--text", "text", "--model", "hashed:16"), where)
    # a selection made with --on-bad-encoding skip records it, so apply reads the input the same way
    sig = load_signals(open_source(p, on_bad_encoding="skip"), Columns(id="id", text="text"))
    RandomSelector(budget=100).fit(sig).selection_.write(tmp_path / "s.parquet")
    manifest = json.loads((tmp_path / "s.manifest.json").read_text())
    assert manifest["read"]["on_bad_encoding"] == "skip" and manifest["read"]["bad_encoding_rows"] == 1
    res = run("apply", tmp_path / "s.parquet", p, "-o", tmp_path / "kept.jsonl")
    assert res.returncode == 0, res.stderr
    kept = [json.loads(x) for x in (tmp_path / "kept.jsonl").read_text().splitlines()]
    assert len(kept) == 100 and rows[bad]["id"] not in {r["id"] for r in kept}
    res = run("info", p, "--on-bad-encoding", "replace", "--text", "text")
    assert res.returncode == 0 and "400" in res.stdout, res.stderr


@pytest.mark.xfail(strict=True, reason="cli/_select.py must open the input with source_from(input, kw) "
                                       "(lead's generated CLI); remove this mark when it does")
def test_select_passes_encoding_options(bbc, tmp_path):
    p = tmp_path / "mixed.jsonl"
    _latin1_line_jsonl(bbc, p)
    res = run("select", p, "--id", "id", "--on-bad-encoding", "skip", "--budget", "10", "-o", tmp_path / "s.parquet")
    assert res.returncode == 0, res.stderr
    assert pq.read_table(tmp_path / "s.parquet").num_rows == 399
