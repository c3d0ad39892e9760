"""Report views on a real selection of BBC News."""

import json
import re
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from datadiet.io import Selection, manifest_path
from datadiet.report import load_context, render_report, write_report
from datadiet.report.views import VIEWS, load_views
from datadiet.signals import estimate_tokens

pytest.importorskip("plotly")


def _hooks():
    return [m.text_rows for m in load_views() if hasattr(m, "text_rows")]


def _counts_on_page(html):
    return {k: float(v) for k, v in re.findall(r'data-count="([^"]+)" data-value="([^"]+)"', html)}


def test_counts_on_page_equal_manifest(bbc_selection, bbc_jsonl, tmp_path):
    out = write_report(bbc_selection, tmp_path / "r.html", data=bbc_jsonl)
    html = out.read_text()
    manifest = json.loads(manifest_path(bbc_selection).read_text())
    shown = _counts_on_page(html)
    for k, v in manifest["counts"].items():
        assert shown[k] == v
    assert shown["n_input"] == manifest["n_input"] == 2225
    assert shown["total_repeats"] == manifest["total_repeats"]
    assert "<script src" not in html and "<link" not in html and "@import" not in html  # all inlined
    assert 1e6 < len(html.encode()) < 8e6  # plotly.js once (~4.8 MB), the rest aggregated


def test_context_reads_input_columns(bbc, bbc_selection, bbc_jsonl):
    ctx = load_context(bbc_selection, bbc_jsonl, text_rows=_hooks())
    assert ctx.lengths is not None
    np.testing.assert_array_equal(ctx.lengths, estimate_tokens(bbc.column("text").combine_chunks()))
    codes, names = ctx.groups["topic"]
    assert names == ["business", "entertainment", "politics", "sport", "tech"]
    manifest = json.loads(manifest_path(bbc_selection).read_text())
    for gi, g in enumerate(names):  # counts recomputed from the input agree with the method's own record
        m = codes == gi
        assert int(m.sum()) == manifest["metrics"]["groups"][g]["input"]
        assert int(ctx.kept[m].sum()) == manifest["metrics"]["groups"][g]["kept"]
        assert int(ctx.repeats[m].sum()) == manifest["metrics"]["groups"][g]["repeats"]
    by_id = dict(zip(bbc.column("id").to_pylist(), bbc.column("text").to_pylist(), strict=False))
    assert ctx.texts and len(ctx.texts) < 100  # only the shown rows are kept in memory
    for pos, text in ctx.texts.items():
        assert by_id[ctx.id_str(pos)].startswith(text[:500])


def test_views_shown_only_when_data_exists(bbc_selection, bbc_jsonl, tmp_path):
    ctx = load_context(bbc_selection, bbc_jsonl, text_rows=_hooks())
    shown = {v.ID for v in load_views() if v.available(ctx)}
    assert {"counts", "groups", "lengths", "weights", "examples", "run"} <= shown
    assert "embedding-map" not in shown  # no embedding signal cached
    assert "data-map" not in shown  # no training-dynamics scores
    html = render_report(ctx)
    assert 'id="embedding-map"' not in html and 'id="lengths"' in html
    # without the input: counts and the method's group record still shown, no lengths / texts
    bare = load_context(bbc_selection, None)
    bare.notes.clear()
    (bbc_jsonl.parent / "elsewhere").mkdir()
    moved = bbc_jsonl.parent / "elsewhere" / "sel.parquet"
    bbc_selection.rename(moved)
    manifest_path(bbc_selection).rename(manifest_path(moved))
    bbc_jsonl.unlink()
    alone = load_context(moved, None)
    assert alone.source is None and alone.lengths is None
    assert any("--input" in n for n in alone.notes)
    shown = {v.ID for v in load_views() if v.available(alone)}
    assert "groups" in shown and "lengths" not in shown and "counts" in shown
    html = render_report(alone)
    assert "pass --input DATA" in html


def test_weights_view_only_for_repeats_or_weights(bbc_jsonl, tmp_path):
    from datadiet.engine import load_signals
    from datadiet.select import RandomSelector
    from datadiet.signals import Columns

    sig = load_signals(bbc_jsonl, Columns(id="id"))
    sel = RandomSelector(budget=500, seed=1).fit(sig).selection_
    sel.info["columns"] = {"id": "id"}
    sel.info.pop("columns_defaulted", None)  # no text role, not even the default 'text' column
    sel.write(tmp_path / "rand.parquet")
    ctx = load_context(tmp_path / "rand.parquet", bbc_jsonl, text_rows=_hooks())
    views = {v.ID: v for v in load_views()}
    assert not views["weights"].available(ctx)
    assert not views["lengths"].available(ctx)  # no text role: nothing to measure
    html = render_report(ctx)
    assert _counts_on_page(html) == {"n_input": 2225, "kept": 500, "not_sampled": 1725}


def test_embedding_map_and_typical_examples(bbc_selection, bbc_jsonl, bbc_embedding, tmp_path):
    ctx = load_context(bbc_selection, bbc_jsonl, text_rows=_hooks())
    assert ctx.embedding is not None and ctx.embedding.shape == (2225, 256)
    from datadiet.report.views import _embedding_map, _examples

    rows = _embedding_map.sample_rows(ctx)
    assert len(rows) == 2225  # fewer than MAX_POINTS: all drawn
    html = _embedding_map.render(ctx)
    assert "PC1" in html and "kept (1,986)" in html and "over_quota (239)" in html
    typ = ctx.typicality()
    top, bottom = _examples._typical(ctx)
    assert ctx.kept[top].all() and ctx.kept[bottom].all()
    assert typ[top].min() > typ[bottom].max()
    kept = np.flatnonzero(ctx.kept)
    assert np.isclose(typ[top[0]], np.nanmax(typ[kept])) and np.isclose(typ[bottom[0]], np.nanmin(typ[kept]))
    ex = _examples.render(ctx)
    assert "most typical kept" in ex and "dropped: over_quota" in ex
    for r in re.findall(r'data-row="(\d+)"', ex):
        assert int(r) in ctx.texts


def test_map_samples_at_most_max_points(tmp_path):
    from datadiet.report.views import _embedding_map

    n = 40_000
    rng = np.random.default_rng(0)
    kept = rng.random(n) < 0.02
    sel = Selection.from_indices(np.arange(n), np.flatnonzero(kept), method="manual")
    sel.write(tmp_path / "s.parquet")
    ctx = load_context(tmp_path / "s.parquet")
    ctx.embedding = rng.standard_normal((n, 8)).astype(np.float32)
    rows = _embedding_map.sample_rows(ctx)
    assert len(rows) == _embedding_map.MAX_POINTS
    # the rare outcome is drawn whole, the frequent one fills the rest
    assert ctx.kept[rows].sum() == kept.sum() < 2500
    again = load_context(tmp_path / "s.parquet")
    again.embedding = ctx.embedding
    np.testing.assert_array_equal(rows, _embedding_map.sample_rows(again))  # same rows every run
    kept2 = rng.random(n) < 0.5
    Selection.from_indices(np.arange(n), np.flatnonzero(kept2), method="manual").write(tmp_path / "h.parquet")
    half = load_context(tmp_path / "h.parquet")
    half.embedding = ctx.embedding
    assert half.kept[_embedding_map.sample_rows(half)].sum() == 2500  # split evenly
    codes = rng.integers(0, 2, n)  # three outcomes: 5000 does not split evenly
    Selection.from_indices(np.arange(n), np.flatnonzero(kept2), drop_reason=codes,
                           reason_names=["a", "b"], method="manual").write(tmp_path / "t.parquet")
    three = load_context(tmp_path / "t.parquet")
    three.embedding = ctx.embedding
    rows = _embedding_map.sample_rows(three)
    assert len(rows) == _embedding_map.MAX_POINTS
    assert sorted(np.bincount(three.outcome_codes()[0][rows]).tolist()) == [1666, 1667, 1667]


def test_duplicate_of_links_show_original(bbc, bbc_jsonl, tmp_path):
    """A dedup-like selection: exact duplicate bodies dropped, linked to the kept original."""
    texts = bbc.column("text").to_pylist()
    ids = bbc.column("id").to_pylist()
    first: dict[str, int] = {}
    dup_of = [None] * len(texts)
    for i, t in enumerate(texts):
        if t in first:
            dup_of[i] = ids[first[t]]
        else:
            first[t] = i
    keep = [i for i in range(len(texts)) if dup_of[i] is None]
    assert 50 < len(texts) - len(keep) < 200  # the corpus has ~98 exact duplicates
    sel = Selection.from_indices(pa.array(ids), keep, drop_reason="duplicate", method="exact-dedup")
    sel.extra["duplicate_of"] = pa.array(dup_of, pa.string())
    sel.info["columns"] = {"id": "id", "text": "text"}
    sel.write(tmp_path / "dedup.parquet")
    ctx = load_context(tmp_path / "dedup.parquet", bbc_jsonl, text_rows=_hooks())
    from datadiet.report.views import _examples

    html = _examples.render(ctx)
    shown = [int(r) for r in re.findall(r'data-row="(\d+)"', html)]
    dropped = [p for p in shown if not ctx.kept[p]]
    assert dropped and all(dup_of[p] is not None for p in dropped)
    for p in dropped:
        assert f"duplicate_of {dup_of[p]}" in html
        orig = ids.index(dup_of[p])
        assert orig in ctx.texts and ctx.texts[orig] == ctx.texts[p]


@pytest.mark.parametrize("case", ["missing", "not_parquet", "not_selection", "exists", "suffix", "wrong_input"])
def test_bad_input(case, bbc_selection, bbc_jsonl, tmp_path):
    out = tmp_path / "r.html"
    sel, data, kw = bbc_selection, bbc_jsonl, {}
    if case == "missing":
        sel, err, msg = tmp_path / "nope.parquet", FileNotFoundError, "does not exist"
    elif case == "not_parquet":
        sel, err, msg = bbc_jsonl, ValueError, "not a readable Parquet selection"
    elif case == "not_selection":
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"a": [1]}), tmp_path / "t.parquet")
        sel, err, msg = tmp_path / "t.parquet", ValueError, "not a datadiet selection"
    elif case == "exists":
        out.write_text("keep me")
        err, msg = FileExistsError, "--overwrite"
    elif case == "suffix":
        out, err, msg = tmp_path / "r.png", ValueError, "must end in .html"
    else:
        other = tmp_path / "other.jsonl"
        other.write_text("".join(line for i, line in enumerate(bbc_jsonl.open()) if i % 2 == 0))
        data, err, msg = other, ValueError, "pass the input the selection was made from"
    with pytest.raises(err, match=re.escape(msg)):
        write_report(sel, out, data=data, **kw)
    if case == "exists":
        assert out.read_text() == "keep me"
    else:
        assert not out.exists()
    assert not list(tmp_path.glob(".r.*.tmp"))


def test_views_list_is_importable_and_complete():
    mods = load_views()
    assert len(mods) == len(VIEWS)
    for m in mods:
        assert m.ID and m.TITLE and callable(m.available) and callable(m.render)


def test_import_datadiet_does_not_import_plotly():
    code = "import sys, datadiet, datadiet.report, datadiet.cli; print('plotly' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_data_map_from_recorded_training_dynamics(tmp_path):
    """A recorder on a real (tiny) training run -> scores table -> selection by confidence -> data map."""
    import pyarrow.parquet as pq

    from datadiet.select import TopKSelector
    from datadiet.signals import Signals
    from datadiet.train import DynamicsRecorder

    rng = np.random.default_rng(0)
    n, k = 300, 3
    x = rng.normal(size=(n, 5))
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 1).astype(int)
    w = np.zeros((5, k))
    rec = DynamicsRecorder(n, k, tmp_path / "dyn")
    for epoch in range(4):  # a few epochs of softmax regression by gradient descent
        logits = x @ w
        rec.record(epoch, np.arange(n), logits, y)
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        p[np.arange(n), y] -= 1
        w -= 0.5 * x.T @ p / n
    s = rec.scores()
    table = pa.table({"id": np.arange(n), "confidence": s["confidence"], "variability": s["variability"]})
    data = tmp_path / "scores.parquet"
    pq.write_table(table, data)
    sig = Signals.from_arrays(np.arange(n), scores={"confidence": s["confidence"]})
    sel = TopKSelector(budget=100).fit(sig).selection_
    sel.info["columns"] = {"id": "id", "scores": ["confidence", "variability"]}
    sel.write(tmp_path / "sel.parquet")
    html = write_report(tmp_path / "sel.parquet", tmp_path / "r.html", data=data).read_text()
    assert 'id="data-map"' in html and "variability (std of the gold-label probability" in html
    ctx = load_context(tmp_path / "sel.parquet", data)
    assert np.allclose(ctx.scores["confidence (input)"] if "confidence (input)" in ctx.scores
                       else ctx.scores["confidence"], s["confidence"])


def test_semantic_pairs_near_the_threshold_are_shown_with_their_texts(bbc, bbc_jsonl, tmp_path):
    from datadiet.dedup import SemanticDedup
    from datadiet.engine import load_signals
    from datadiet.signals import Columns, embed_source

    sig = load_signals(bbc_jsonl, Columns(id="id", text="text"))
    sig.vectors = np.asarray(embed_source(bbc_jsonl, "text", "hashed:64"), np.float32)
    sel = SemanticDedup(threshold=0.9, n_clusters=10).fit(sig).selection_
    pairs = sel.metrics["semantic_near_threshold"]
    assert pairs and all(p["cosine"] >= 0.9 for p in pairs)
    sel.write(tmp_path / "sem.parquet")
    html = write_report(tmp_path / "sem.parquet", tmp_path / "r.html", data=bbc_jsonl).read_text()
    assert 'id="near-threshold"' in html and "threshold 0.9" in html
    text_of = dict(zip(bbc.column("id").to_pylist(), bbc.column("text").to_pylist(), strict=True))
    first = pairs[0]
    for key in ("a", "b"):
        assert str(first[key]) in html
        assert " ".join(text_of[first[key]][:60].split())[:40] in html
