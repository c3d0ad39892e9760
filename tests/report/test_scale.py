"""A 1,000,000-row selection gives a page of a few MB: histograms aggregated, the map sampled."""

import json
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datadiet.io import Selection, manifest_path, open_source
from datadiet.report import write_report
from datadiet.signals import SignalCache

pytest.importorskip("plotly")
pytestmark = pytest.mark.slow


def test_million_rows_page_stays_small(tmp_path):
    n = 1_000_000
    rng = np.random.default_rng(0)
    domain = np.array([f"d{i:03d}" for i in range(300)])[rng.zipf(1.3, n) % 300]
    pq.write_table(pa.table({"id": np.arange(n), "domain": domain, "tokens": rng.integers(10, 5000, n)}),
                   tmp_path / "in.parquet")
    src = open_source(tmp_path / "in.parquet")
    score = rng.random(n)
    keep = np.flatnonzero(score > 0.6)
    sel = Selection.from_indices(np.arange(n), keep, repeats=rng.integers(1, 3, len(keep)),
                                 drop_reason=(rng.random(n) < 0.2).astype(np.int8),
                                 reason_names=["below_threshold", "duplicate"], method="synthetic")
    sel.extra["score"] = score
    sel.info.update(columns={"id": "id", "group": "domain", "tokens": "tokens"},
                    input_fingerprint=src.fingerprint())
    sel.write(tmp_path / "sel.parquet")
    SignalCache(src).save_vectors("embedding", {"m": "random"}, rng.standard_normal((n, 16)).astype(np.float32))
    out = write_report(tmp_path / "sel.parquet", tmp_path / "r.html", data=src)
    html = out.read_text()
    size = len(html.encode())
    assert size < 7e6, f"page is {size / 1e6:.1f} MB"
    manifest = json.loads(manifest_path(tmp_path / "sel.parquet").read_text())
    shown = {k: float(v) for k, v in re.findall(r'data-count="([^"]+)" data-value="([^"]+)"', html)}
    assert {k: shown[k] for k in manifest["counts"]} == manifest["counts"]
    assert "5,000 of 1,000,000 rows" in html
    for view in ("groups", "lengths", "scores", "weights", "embedding-map", "examples"):
        assert f'id="{view}"' in html
    assert "domain (300 groups)" in html
