"""Local and Ray engines give the same ids, signals and selections for the same seed."""

import json

import pyarrow as pa
import pytest

from datadiet import Columns, GroupBalanceSelector, load_signals
from datadiet.engine import LocalEngine, Step, get_engine


class Upper(Step):
    columns = ["title"]

    def setup(self):
        self.ready = True

    def process_batch(self, batch):
        assert self.ready
        return pa.table({"upper": pa.compute.utf8_upper(batch.table.column("title"))})


def test_local_engine_runs_a_step_in_order(bbc):
    out = LocalEngine().run(bbc, Upper(), batch_size=100)
    assert out.column("upper").to_pylist() == [t.upper() for t in bbc.column("title").to_pylist()]
    with pytest.raises(ValueError, match="engine must be"):
        get_engine("spark")


@pytest.mark.slow
def test_ray_engine_matches_local(ray_run):
    got = json.loads((ray_run / "out" / "results.json").read_text())["signals"]
    d = ray_run / "shards"
    cols = Columns(text="text", group="topic")
    sig = load_signals(d, cols, need_tokens=True, batch_size=1000)
    sel = GroupBalanceSelector(budget=700, alpha=0.0, seed=11).fit(sig).selection_
    assert got["ids"] == sig.ids.to_pylist()
    assert got["tokens"] == sig.tokens.tolist()
    assert got["groups"] == sig.groups.tolist()
    assert got["kept"] == [i for i, k in zip(sig.ids.to_pylist(), sel.kept) if k]
    assert len(got["kept"]) == 700
    assert got["upper"] == [r["title"].upper() for r in map(json.loads, _lines(d))]


def _lines(d):
    from datadiet.io import open_source

    for f in open_source(d).files:
        yield from f.read_text().splitlines()
