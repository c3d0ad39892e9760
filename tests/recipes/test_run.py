"""`datadiet run`: recipes of steps on real data (BBC News), validated up front and resumable."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from datadiet.cli import cli
from datadiet.dedup import Dedup
from datadiet.engine import load_signals
from datadiet.io import Selection, chain, open_source
from datadiet.recipes import load_recipe
from datadiet.select import RandomSelector
from datadiet.signals import Columns

RECIPE = """\
input: bbc.jsonl
columns: {id: id, text: text, group: topic}
steps:
  - dedup: {exact: true, near: 0.8}
  - select: {method: random, budget: 500, seed: 3}
  - apply: {output: train.jsonl}
"""


@pytest.fixture
def folder(bbc_jsonl):
    d = bbc_jsonl.parent
    (d / "r.yaml").write_text(RECIPE)
    return d


def invoke(*args):
    return CliRunner().invoke(cli, ["run", *map(str, args)])


def test_recipe_equals_the_steps_run_by_hand(folder):
    r = invoke(folder / "r.yaml", "-o", folder / "out")
    assert r.exit_code == 0, r.output
    final = Selection.read(folder / "out" / "selection.parquet")
    # the same two steps through the Python API
    sig = load_signals(open_source(folder / "bbc.jsonl"), Columns(id="id", text="text"), keep_text=True)
    d = Dedup(exact=True, near=0.8).fit(sig).selection_
    s = RandomSelector(budget=500, seed=3).fit(sig.take(d.indices)).selection_
    by_hand = chain(d, s)
    assert final.counts() == by_hand.counts() == {"kept": 500, "duplicate": d.counts()["duplicate"],
                                                    "not_sampled": len(d.indices) - 500}
    assert np.array_equal(final.kept, by_hand.kept)
    rows = [json.loads(x) for x in (folder / "out" / "train.jsonl").read_text().splitlines()]
    kept_ids = set(final.ids.filter(pa.array(final.kept)).to_pylist())
    assert len(rows) == 500 and {r["id"] for r in rows} == kept_ids
    manifest = json.loads((folder / "out" / "selection.manifest.json").read_text())
    assert [s["method"] for s in manifest["params"]["steps"]] == ["dedup", "random"]
    assert manifest["steps"] == ["01-dedup", "02-select-random", "03-apply"]


def test_finished_steps_are_not_recomputed_and_changes_recompute_only_what_depends_on_them(folder):
    out = folder / "out"
    assert invoke(folder / "r.yaml", "-o", out).exit_code == 0
    dedup_sel = out / "01-dedup" / "selection.parquet"
    stamp = dedup_sel.stat().st_mtime_ns
    again = invoke(folder / "r.yaml", "-o", out)
    assert again.exit_code == 0 and again.output.count("skipped") == 2
    assert dedup_sel.stat().st_mtime_ns == stamp
    (folder / "r.yaml").write_text(RECIPE.replace("budget: 500", "budget: 400"))
    changed = invoke(folder / "r.yaml", "-o", out)
    assert changed.exit_code == 0 and "01-dedup: done before" in changed.output
    assert "02-select-random: select random in" in changed.output
    assert Selection.read(out / "selection.parquet").n_kept == 400
    forced = invoke(folder / "r.yaml", "-o", out, "--force", "1")
    assert forced.exit_code == 0 and "01-dedup: dedup in" in forced.output
    assert dedup_sel.stat().st_mtime_ns != stamp


def test_a_failed_step_leaves_no_output_and_the_rerun_starts_there(folder):
    out = folder / "out"
    bad = RECIPE.replace("select: {method: random, budget: 500, seed: 3}",
                         "select: {method: random, budget: 5000, seed: 3}")
    (folder / "r.yaml").write_text(bad)
    r = invoke(folder / "r.yaml", "-o", out)
    assert r.exit_code == 2 and "--budget must be at most" in r.output
    assert (out / "01-dedup" / "selection.parquet").exists()
    assert not (out / "02-select-random" / "selection.parquet").exists()
    assert not (out / "selection.parquet").exists() and not (out / "train.jsonl").exists()
    (folder / "r.yaml").write_text(RECIPE)
    r = invoke(folder / "r.yaml", "-o", out)
    assert r.exit_code == 0 and "01-dedup: done before" in r.output


@pytest.mark.parametrize(("change", "message"), [
    (("near: 0.8", "naer: 0.8"), "step 1 (dedup): no option 'naer'"),
    (("seed: 3", "seed: 3, alpha: 0.5"), "step 2 (select): no option 'alpha'"),
    (("budget: 500", "budget: lots"), "step 2 (select): RandomSelector: budget must be a budget"),
    (("near: 0.8", "near: 1.5"), "step 1 (dedup): Dedup: near must be a number in (0, 1]"),
    (("method: random", "method: nope"), "step 2 (select): unknown method 'nope'"),
    (("- dedup:", "- dedupe:"), "step 1: unknown command 'dedupe'"),
    (("columns: {", "columns: {colour: red, "), "columns.colour is not a role"),
    (("  - apply: {output: train.jsonl}\n", "  - apply: {}\n"), "apply takes 'output'"),
])
def test_bad_recipes_are_refused_before_anything_runs(folder, change, message):
    (folder / "r.yaml").write_text(RECIPE.replace(*change))
    r = invoke(folder / "r.yaml", "-o", folder / "out")
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output
    assert not (folder / "out").exists()


def test_toml_and_input_override(folder, bbc):
    (folder / "r.toml").write_text(
        'input = "missing.jsonl"\ncolumns = {id = "id", text = "text"}\n'
        '[[steps]]\nselect = {method = "random", budget = 10}\n')
    small = folder / "small.parquet"
    pq.write_table(bbc.slice(0, 100), small)
    r = invoke(folder / "r.toml", "-o", folder / "o2", "--input", small)
    assert r.exit_code == 0, r.output
    sel = Selection.read(folder / "o2" / "selection.parquet")
    assert len(sel) == 100 and sel.n_kept == 10


def test_load_recipe_errors(tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text("input: x\nsteps: [\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_recipe(p)
    with pytest.raises(ValueError, match="'apply' writes the data and must be the last step"):
        load_recipe({"input": "x", "steps": [{"apply": {"output": "a.jsonl"}}, {"dedup": {}}]})
    with pytest.raises(ValueError, match="no 'input'"):
        load_recipe({"steps": [{"dedup": {}}]})
