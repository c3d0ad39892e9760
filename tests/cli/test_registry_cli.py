"""A method is added by writing its class and registering it: the CLI, its help and validation follow."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from datadiet._core import Param, register, unregister
from datadiet.cli import cli
from datadiet.select import BaseSelector, Picked
from datadiet.select._base import BUDGETED


@pytest.fixture
def toy():
    @register("select")
    class EveryOther(BaseSelector):
        """Keep every k-th row (a toy method for the registry test)."""

        method = "every-other"
        summary = "keep every k-th row"
        example = "datadiet select every-other data.jsonl --step 3 --budget 10 -o sel.parquet"
        params = (*BUDGETED, Param("step", "int", 2, "keep one row in STEP", low=1))

        def _select(self, sig, target, seed):
            idx = np.arange(0, len(sig), self.step)[: target.examples]
            return Picked(idx)

    yield EveryOther
    unregister("select", "every-other")


def test_toy_method_appears_with_options_help_and_validation(toy, bbc_jsonl, tmp_path):
    runner = CliRunner()
    listing = runner.invoke(cli, ["select", "--help"])
    assert listing.exit_code == 0 and "every-other" in listing.output and "keep every k-th row" in listing.output
    helped = runner.invoke(cli, ["select", "every-other", "--help"])
    assert helped.exit_code == 0
    assert "--step" in helped.output and "keep one row in STEP" in helped.output and "[default: 2]" in helped.output
    assert "--step 3 --budget 10" in helped.output  # the worked example
    assert "--alpha" not in helped.output  # only this method's options
    out = tmp_path / "sel.parquet"
    ok = runner.invoke(cli, ["select", "every-other", str(bbc_jsonl), "--step", "3", "--budget", "10", "-o", str(out),
                             "-q"])
    assert ok.exit_code == 0, ok.output
    manifest = json.loads((tmp_path / "sel.manifest.json").read_text())
    assert manifest["method"] == "every-other" and manifest["params"]["step"] == 3 and manifest["n_kept"] == 10
    bad = runner.invoke(cli, ["select", str(bbc_jsonl), "--method", "every-other", "--step", "0", "--budget", "10",
                              "-o", str(tmp_path / "bad.parquet")])
    assert bad.exit_code == 2
    assert "EveryOther: --step must be an integer >= 1; got 0" in bad.output
    assert not (tmp_path / "bad.parquet").exists()
    other = runner.invoke(cli, ["select", "every-other", str(bbc_jsonl), "--alpha", "0.3", "--budget", "5", "-o",
                                str(tmp_path / "x.parquet")])
    assert other.exit_code == 2 and "--alpha" in other.output


def test_ray_is_refused_by_local_only_methods(bbc_jsonl, tmp_path):
    r = CliRunner().invoke(cli, ["select", "kcenter", str(bbc_jsonl), "--text", "text", "--model", "hashed:16",
                                 "--budget", "5", "--engine", "ray", "-o", str(tmp_path / "s.parquet")])
    assert r.exit_code == 2 and "local engine only" in r.output
    assert not (tmp_path / "s.parquet").exists()


def test_bugs_exit_1_with_traceback_and_user_errors_show_one_line_unless_debug(toy, bbc_jsonl, tmp_path,
                                                                              monkeypatch):
    def broken(self, sig, target, seed):
        raise KeyError("internal")

    monkeypatch.setattr(toy, "_select", broken)
    r = CliRunner().invoke(cli, ["select", "every-other", str(bbc_jsonl), "--budget", "5", "-o",
                                 str(tmp_path / "s.parquet")])
    assert r.exit_code == 1 and "Traceback" in r.output and "this is a bug in datadiet" in r.output
    user = CliRunner().invoke(cli, ["select", "random", str(bbc_jsonl), "--budget", "0", "-o",
                                    str(tmp_path / "u.parquet")])
    assert user.exit_code == 2 and "Traceback" not in user.output
    debug = CliRunner().invoke(cli, ["select", "random", str(bbc_jsonl), "--budget", "0", "--debug", "-o",
                                     str(tmp_path / "u.parquet")])
    assert debug.exit_code == 2 and "Traceback" in debug.output
