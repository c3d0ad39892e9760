"""``datadiet report`` and ``datadiet select --report`` on BBC News."""

import json
import re

import pytest
from click.testing import CliRunner

from datadiet.cli import cli

pytest.importorskip("plotly")


def _counts(html):
    return {k: float(v) for k, v in re.findall(r'data-count="([^"]+)" data-value="([^"]+)"', html)}


def test_select_report_then_report_command(bbc_jsonl, tmp_path):
    runner = CliRunner()
    sel, first = tmp_path / "sel.parquet", tmp_path / "first.html"
    res = runner.invoke(cli, ["select", str(bbc_jsonl), "--id", "id", "--text", "text", "--group", "topic",
                              "--method", "balance", "--alpha", "0", "--budget", "1000", "-o", str(sel),
                              "--report", str(first), "-q"])
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "sel.manifest.json").read_text())
    out = tmp_path / "report.html"
    res = runner.invoke(cli, ["report", str(sel), "--input", str(bbc_jsonl), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert str(out) in res.output and "MB" in res.output
    for html in (first.read_text(), out.read_text()):
        shown = _counts(html)
        assert {k: shown[k] for k in manifest["counts"]} == manifest["counts"]
        assert 'id="lengths"' in html and 'id="groups"' in html
    # the manifest's input is used when --input is left out (it still exists, unchanged)
    res = runner.invoke(cli, ["report", str(sel), "-o", str(out), "--overwrite", "-q"])
    assert res.exit_code == 0 and res.output == ""
    assert 'id="lengths"' in out.read_text()


def test_report_help_has_example():
    res = CliRunner().invoke(cli, ["report", "--help"])
    assert res.exit_code == 0
    assert "datadiet report sel.parquet --input" in res.output


@pytest.mark.parametrize("case", ["missing", "exists", "no_folder", "wrong_input", "bad_text_column"])
def test_report_bad_input_exits_2_with_one_line(case, bbc_jsonl, tmp_path):
    runner = CliRunner()
    sel = tmp_path / "sel.parquet"
    assert runner.invoke(cli, ["select", str(bbc_jsonl), "--id", "id", "--budget", "100", "-o", str(sel),
                               "-q"]).exit_code == 0
    out = tmp_path / "r.html"
    args = ["report", str(sel), "-o", str(out)]
    if case == "missing":
        args[1] = str(tmp_path / "nope.parquet")
    elif case == "exists":
        out.write_text("old")
    elif case == "no_folder":
        out = tmp_path / "no" / "r.html"
        args[-1] = str(out)
    elif case == "wrong_input":
        other = tmp_path / "rt.jsonl"
        other.write_text("".join(line for i, line in enumerate(bbc_jsonl.open()) if i < 50))
        args += ["--input", str(other)]
    else:
        args += ["--input", str(bbc_jsonl), "--text", "body"]
    res = runner.invoke(cli, args)
    if case == "bad_text_column":  # a missing role column is noted on the page, not fatal
        assert res.exit_code == 0, res.output
        assert "column(s) body are not in" in out.read_text()
        return
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in res.output
    if case == "exists":
        assert out.read_text() == "old"
    else:
        assert not out.exists()
