"""Issue 10: real-world data through the CLI (damaged files, encodings, nulls, column defaults)."""

import json

import numpy as np
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


# --- item 7: columns named 'id' and 'text' are used when not named otherwise -------------------------------
def test_id_and_text_columns_by_default(bbc, bbc_jsonl, tmp_path):
    sig = load_signals(bbc_jsonl, Columns(group="topic"), need_tokens=True)
    assert sig.ids.to_pylist() == bbc.column("id").to_pylist() and sig.tokens.sum() > 0
    assert sig.origin["columns_defaulted"] == ["id", "text"]
    # a token budget needs text: found without --text
    res = run("select", bbc_jsonl, "--budget", "100k-tokens", "-o", tmp_path / "s.parquet")
    assert res.returncode == 0, res.stderr
    assert "columns by default" in res.stdout and "id = column 'id'" in res.stdout
    m = json.loads((tmp_path / "s.manifest.json").read_text())
    assert m["columns_defaulted"] == ["id", "text"]
    ids = pq.read_table(tmp_path / "s.parquet").column("id").to_pylist()
    assert ids == bbc.column("id").to_pylist()
    res = run("apply", tmp_path / "s.parquet", bbc_jsonl, "-o", tmp_path / "kept.parquet")
    assert res.returncode == 0, res.stderr
    res = run("embed", bbc_jsonl, "--model", "hashed:16")
    assert res.returncode == 0 and "(by default)" in res.stdout, res.stderr
    res = run("info", bbc_jsonl)
    assert "column 'id' (by default)" in res.stdout and "tokens" in res.stdout
    # a named text column wins; a non-unique 'id' column says it was taken by default
    t = bbc.slice(0, 50).drop_columns(["id"]).append_column("id", __import__("pyarrow").array([1] * 50))
    with pytest.raises(ValueError, match="used as the id column by default"):
        load_signals(t, Columns())


def test_dedup_finds_text_by_default(bbc_jsonl, tmp_path):
    res = run("dedup", bbc_jsonl, "-o", tmp_path / "d.parquet")
    assert res.returncode == 0, res.stderr


# --- item 4: one null-text policy in every command -----------------------------------------------------------
@pytest.fixture
def rt_jsonl(rt_nulls, tmp_path):
    from datadiet._testing import write_jsonl

    return write_jsonl(rt_nulls, tmp_path / "rt.jsonl")


def test_null_texts_skipped_with_reason_in_every_command(rt_nulls, rt_jsonl, tmp_path):
    null_ids = set(rt_nulls.filter(rt_nulls.column("text").is_null()).column("id").to_pylist())
    assert len(null_ids) == 14

    def reasons(path):
        t = pq.read_table(path)
        m = json.loads(path.with_name(path.stem + ".manifest.json").read_text())
        got = {i for i, r in zip(t.column("id").to_pylist(), t.column("reason").to_pylist(), strict=True)
               if r == "null_text"}
        return got, m

    # select (random: the text is only checked for nulls), dedup, DSIR: left out as null_text, counted
    for args in (["select", rt_jsonl, "--budget", "1000"],
                 ["select", rt_jsonl, "--method", "dsir", "--text", "text", "--target", rt_jsonl, "--budget", "1000"],
                 ["dedup", rt_jsonl, "--text", "text"]):
        out = tmp_path / f"{args[0]}{len(args)}.parquet"
        res = run(*args, "-o", out)
        assert res.returncode == 0, (args, res.stderr)
        got, m = reasons(out)
        assert got == null_ids, args
        assert m["counts"]["null_text"] == 14 and m["read"]["null_text_rows"] == 14, args
        assert "null_text" in res.stdout
    res = run("embed", rt_jsonl, "--model", "hashed:16")  # refused null text before
    assert res.returncode == 0 and "null texts" in res.stdout, res.stderr
    # the selection applies: null rows are not written
    res = run("apply", tmp_path / "select4.parquet", rt_jsonl, "-o", tmp_path / "kept.jsonl")
    assert res.returncode == 0, res.stderr


def test_null_text_policies_in_python(rt_nulls):
    from datadiet.dedup import ExactDedup

    sig = load_signals(rt_nulls, Columns(id="id", text="text"), keep_text=True)
    sel = ExactDedup().fit(sig).selection_
    assert sel.counts()["null_text"] == 14
    # the null rows are never anyone's duplicate: '' is not compared with the empty strings
    dup_of = sel.extra["duplicate_of"].to_pylist()
    null_pos = set(np.flatnonzero(rt_nulls.column("text").is_null().to_numpy(zero_copy_only=False)).tolist())
    assert not {d for d in dup_of if d is not None} & null_pos
    empty = load_signals(rt_nulls, Columns(id="id", text="text", on_null="empty"), keep_text=True)
    assert empty.null_text is None and "null_text" not in ExactDedup().fit(empty).selection_.counts()
    with pytest.raises(ValueError, match=r"row 221: the text column 'text' is null .*--on-null"):
        load_signals(rt_nulls, Columns(id="id", text="text", on_null="error"))
    assert RandomSelector(budget=100).fit(sig).selection_.counts()["null_text"] == 14


def test_on_null_error_through_the_cli(rt_jsonl):
    assert_user_error(run("select", rt_jsonl, "--on-null", "error", "--budget", "10", "-o", "x.parquet"),
                      "rt.jsonl, row 221", "--on-null")


# --- small ones ------------------------------------------------------------------------------------------------
def test_small_messages(bbc_jsonl, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": "unterminated}\n')
    res = run("info", bad)
    assert_user_error(res, "bad.jsonl, line 2: malformed JSON", "column")
    assert "at at" not in res.stderr
    sig = load_signals(bbc_jsonl, Columns(id="id"))
    RandomSelector(budget=10).fit(sig).selection_.write(tmp_path / "s.parquet")
    # an output type apply cannot write is named as an output, not "cannot read"
    res = run("apply", tmp_path / "s.parquet", bbc_jsonl, "-o", tmp_path / "out.txt")
    assert_user_error(res, "cannot write", "out.txt")
    # a missing input is reported as missing even when the output already exists
    (tmp_path / "kept.jsonl").write_text("")
    assert_user_error(run("apply", tmp_path / "s.parquet", tmp_path / "gone.jsonl", "-o", tmp_path / "kept.jsonl"),
                      "gone.jsonl does not exist")
    (tmp_path / "r.html").write_text("")
    assert_user_error(run("report", tmp_path / "gone.parquet", "-o", tmp_path / "r.html"), "gone.parquet does not exist")
    # a missing --target is called the target
    res = run("select", bbc_jsonl, "--method", "dsir", "--text", "text", "--target", tmp_path / "nope.jsonl",
              "--budget", "10", "-o", tmp_path / "d.parquet")
    assert_user_error(res, "target", "nope.jsonl does not exist")
    assert "input " not in res.stderr
