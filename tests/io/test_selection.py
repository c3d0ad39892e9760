import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from datadiet import GroupBalanceSelector, Selection, apply_selection
from datadiet.io import manifest_path


@pytest.fixture
def sel(bbc):
    return GroupBalanceSelector(budget=300, alpha=0.0, mode="upsample", max_repeats=2, seed=1).fit(
        ids=bbc.column("id"), groups=bbc.column("topic")).selection_


def test_write_read_roundtrip(sel, tmp_path):
    p = tmp_path / "sel.parquet"
    mpath = sel.write(p)
    assert mpath == manifest_path(p) == tmp_path / "sel.manifest.json"
    t = pq.read_table(p)
    assert t.column_names[:5] == ["id", "kept", "weight", "repeats", "reason"]
    assert t.num_rows == 2225
    m = json.loads(mpath.read_text())
    assert m["method"] == "balance" and m["seed"] == 1 and m["params"]["alpha"] == 0.0
    assert m["counts"] == sel.counts() and sum(m["counts"].values()) == 2225
    assert m["total_repeats"] == 300
    back = Selection.read(p)
    assert back.ids.to_pylist() == sel.ids.to_pylist()
    np.testing.assert_array_equal(back.repeats, sel.repeats)
    assert back.counts() == sel.counts()
    assert back.reasons().to_pylist() == sel.reasons().to_pylist()


def test_refuses_to_overwrite_and_leaves_no_temp(sel, tmp_path):
    p = tmp_path / "sel.parquet"
    sel.write(p)
    before = p.read_bytes()
    with pytest.raises(FileExistsError, match="--overwrite"):
        sel.write(p)
    assert p.read_bytes() == before
    sel.write(p, overwrite=True)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["sel.manifest.json", "sel.parquet"]


def test_read_rejects_non_selections(tmp_path, bbc):
    pq.write_table(bbc.slice(0, 3), tmp_path / "data.parquet")
    with pytest.raises(ValueError, match="not a datadiet selection"):
        Selection.read(tmp_path / "data.parquet")
    with pytest.raises(FileNotFoundError):
        Selection.read(tmp_path / "nope.parquet")


def test_apply_writes_repeats_in_order_and_weights(bbc, tmp_path):
    sel = GroupBalanceSelector(budget=300, alpha=0.0, mode="upsample", max_repeats=2).fit(
        ids=bbc.column("id"), groups=bbc.column("topic")).selection_
    out = tmp_path / "kept.parquet"
    stats = apply_selection(sel, bbc, out, id_column="id")
    assert stats == {"rows_in": 2225, "rows_out": 300}
    got = pq.read_table(out)
    assert "weight" not in got.column_names
    want = [i for i, r in zip(bbc.column("id").to_pylist(), sel.repeats) for _ in range(r)]
    assert got.column("id").to_pylist() == want

    up = GroupBalanceSelector(budget=2225, alpha=0.0, mode="upweight").fit(
        ids=bbc.column("id"), groups=bbc.column("topic")).selection_
    out2 = tmp_path / "kept.jsonl"
    apply_selection(up, bbc, out2, id_column="id")
    rows = [json.loads(x) for x in out2.read_text().splitlines()]
    assert len(rows) == up.n_kept
    assert sum(r["weight"] for r in rows) == pytest.approx(2225)
    assert max(r["weight"] for r in rows) == pytest.approx(445 / 386)


def test_apply_refuses_other_data(sel, bbc, tmp_path):
    out = tmp_path / "x.parquet"
    with pytest.raises(ValueError, match="not in the selection"):
        apply_selection(sel, bbc.slice(0, 10).set_column(0, "id", bbc.column("title").slice(0, 10)), out,
                        id_column="id")
    assert not out.exists()
    with pytest.raises(ValueError, match="has 10 rows but the selection has 2225"):
        apply_selection(sel, bbc.slice(0, 10), out, id_column="id")
    assert not out.exists()


def test_outputs_get_normal_permissions(sel, tmp_path):
    import os

    p = tmp_path / "sel.parquet"
    sel.write(p)
    mask = os.umask(0)
    os.umask(mask)
    assert (p.stat().st_mode & 0o777) == 0o666 & ~mask
