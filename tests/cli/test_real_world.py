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


# --- item 6: selections made in Python record their input ------------------------------------------------
def test_python_selection_records_input_so_apply_and_report_need_nothing_restated(bbc_jsonl, tmp_path):
    from datadiet.dedup import ExactDedup
    from datadiet.engine import dsir_select

    cols = Columns(id="id", text="text", group="topic")
    sel = RandomSelector(budget=200, seed=3).fit(load_signals(bbc_jsonl, cols)).selection_
    sel.write(tmp_path / "s.parquet")
    m = json.loads((tmp_path / "s.manifest.json").read_text())
    assert m["input"] == str(bbc_jsonl) and m["input_fingerprint"] == open_source(bbc_jsonl).fingerprint()
    assert m["columns"] == {"id": "id", "text": "text", "group": "topic"}
    res = run("apply", tmp_path / "s.parquet", bbc_jsonl, "-o", tmp_path / "kept.jsonl")  # no --id
    assert res.returncode == 0, res.stderr
    kept = {json.loads(x)["id"] for x in (tmp_path / "kept.jsonl").read_text().splitlines()}
    assert kept == set(sel.ids.take(sel.indices).to_pylist())
    res = run("report", tmp_path / "s.parquet", "-o", tmp_path / "r.html")  # input found from the manifest
    assert res.returncode == 0, res.stderr
    page = (tmp_path / "r.html").read_text()
    assert "pass --input DATA" not in page and "lengths" in page
    # the same for dedup and DSIR made in Python
    dd = ExactDedup().fit(load_signals(bbc_jsonl, Columns(id="id", text="text"), keep_text=True)).selection_
    ds = dsir_select(bbc_jsonl, ["the match ended in a late goal"], Columns(id="id", text="text"), budget=100,
                     cache=False)
    for s in (dd, ds):
        assert s.manifest()["input"] == str(bbc_jsonl) and s.manifest()["columns"]["id"] == "id"


def test_report_takes_id(bbc, bbc_jsonl, tmp_path):
    from datadiet.io import Selection

    # a selection built from bare ids records no columns: the report must be told which column holds them
    Selection.from_indices(ids=bbc.column("id"), indices=list(range(0, 2225, 9)), method="manual").write(
        tmp_path / "s.parquet")
    assert_user_error(run("report", tmp_path / "s.parquet", "--input", bbc_jsonl, "-o", tmp_path / "r.html"),
                      "does not match the selection")
    res = run("report", tmp_path / "s.parquet", "--input", bbc_jsonl, "--id", "id", "-o", tmp_path / "r.html")
    assert res.returncode == 0, res.stderr
