"""``datadiet scores``: a recorded store to a signal table the selectors read; bad input: one line, exit 2."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from datadiet.cli import cli
from datadiet.train import DynamicsRecorder


@pytest.fixture
def store(tmp_path):
    """Logistic-regression-like logits on real Fashion-MNIST pixels, 3 epochs of 300 images."""
    from datadiet._testing import fashion_mnist

    x, y = fashion_mnist("train")
    x = x[:300].astype(np.float64) / 255.0
    y = y[:300].astype(np.int64)
    centroids = np.stack([x[y == c].mean(0) for c in range(10)])
    rec = DynamicsRecorder(300, 10, tmp_path / "dyn")
    for e in range(3):
        logits = (e + 1) * 5.0 * x @ centroids.T / np.linalg.norm(centroids, axis=1)
        rec.record(e, np.arange(300), logits, y)
    rec.flush()
    return tmp_path / "dyn"


def test_scores_command_writes_a_signal_table_and_a_plot(store, tmp_path):
    pytest.importorskip("matplotlib")
    out, png = tmp_path / "scores.parquet", tmp_path / "map.png"
    r = CliRunner().invoke(cli, ["scores", str(store), "-o", str(out), "--plot", str(png)])
    assert r.exit_code == 0, r.output
    t = pq.read_table(out)
    assert t.num_rows == 300
    assert {"id", "label", "el2n", "grand", "forgetting", "aum", "confidence", "variability",
            "correctness"} <= set(t.column_names)
    assert png.read_bytes()[:4] == b"\x89PNG"
    # the table feeds a selector: keep the 70% hardest by EL2N (prune the easiest 30%)
    sel = tmp_path / "sel.parquet"
    r = CliRunner().invoke(cli, ["select", str(out), "--id", "id", "--score", "el2n", "--method", "topk",
                                 "--budget", "210", "-o", str(sel)])
    assert r.exit_code == 0, r.output
    s = pq.read_table(sel).to_pandas()
    el2n = t.column("el2n").to_numpy()
    kept = s.loc[s.kept, "id"].to_numpy()
    assert len(kept) == 210
    assert el2n[kept].min() >= np.sort(el2n)[::-1][209] - 1e-12


def test_ids_come_from_the_training_data(store, tmp_path):
    import pyarrow as pa

    data = tmp_path / "train.parquet"
    pq.write_table(pa.table({"uid": [f"img-{i}" for i in range(300)], "x": np.arange(300)}), data)
    out = tmp_path / "s.parquet"
    r = CliRunner().invoke(cli, ["scores", str(store), "--input", str(data), "--id", "uid", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert pq.read_table(out).column("id").to_pylist()[:2] == ["img-0", "img-1"]
    short = tmp_path / "short.parquet"
    pq.write_table(pa.table({"uid": ["a", "b"]}), short)
    r = CliRunner().invoke(cli, ["scores", str(store), "--input", str(short), "--id", "uid", "-o", str(out) + "2"])
    assert r.exit_code == 2 and "2 rows but the recording has n=300" in r.output


@pytest.mark.parametrize("args, message", [
    (["missing-dir"], "not a folder"),
    (["{tmp}"], "not a dynamics store"),
    (["{store}", "--epochs", "x"], "--epochs"),
    (["{store}", "--epochs", "7"], "none of epochs"),
    (["{store}", "--plot", "{tmp}/map.jpg"], ".png"),
    (["{store}", "--id", "uid"], "--input"),
])
def test_bad_input_one_line_exit_2_nothing_written(store, tmp_path, args, message):
    out = tmp_path / "o.parquet"
    argv = ["scores", *[a.format(tmp=tmp_path, store=store) for a in args], "-o", str(out)]
    r = subprocess.run([sys.executable, "-m", "datadiet", *argv], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".o.parquet*"))


def test_existing_output_is_refused(store, tmp_path):
    out = tmp_path / "o.parquet"
    out.write_text("keep me")
    r = CliRunner().invoke(cli, ["scores", str(store), "-o", str(out)])
    assert r.exit_code == 2
    assert out.read_text() == "keep me"
