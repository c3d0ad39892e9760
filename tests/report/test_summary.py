"""Terminal summary: the same counts and metrics as the manifest."""

from rich.console import Console

from datadiet.report import summary_renderables


def _render(manifest, paths=None):
    console = Console(width=120, record=True)
    for r in summary_renderables("run", manifest, paths or {}):
        console.print(r)
    return console.export_text()


def test_summary_shows_counts_weights_and_nested_metrics(bbc_selection):
    import json

    from datadiet.io import manifest_path

    m = json.loads(manifest_path(bbc_selection).read_text())
    text = _render(m, {"report": "r.html"})
    for k, v in m["counts"].items():
        assert f"{k}" in text and f"{v:,}" in text
    assert "examples with repeats" in text and f"{m['total_repeats']:,}" in text
    for g in m["metrics"]["groups"]:
        assert g in text
    assert "r.html" in text
    text = _render({"n_input": 10, "n_kept": 4, "total_weight": 5.5, "total_repeats": 4,
                    "counts": {"kept": 4, "duplicate": 6},
                    "metrics": {"kl_reduction": 0.53, "coverage": {"k10": 0.91}}})
    assert "total weight" in text and "5.5" in text
    assert "coverage.k10" in text and "0.91" in text and "60.0%" in text


def test_summary_names_auto_choice_and_chained_group_input(bbc):
    """Issue 10: the auto summary says which method it chose; after dedup the groups' input is labelled so."""
    from datadiet.balance import GroupBalanceSelector
    from datadiet.dedup import Dedup
    from datadiet.io import chain
    from datadiet.select import AutoSelector
    from datadiet.signals import Signals, get_encoder

    t = bbc.slice(0, 600)
    sig = Signals.from_arrays(t.column("id"), groups=t.column("topic"), text=t.column("text"),
                              vectors=get_encoder("hashed:32").encode(t.column("text")))
    auto = AutoSelector(budget=50).fit(sig).selection_
    assert f"auto.method {auto.metrics['auto']['method']}" in " ".join(_render(auto.manifest()).split())
    dedup = Dedup(exact=True).fit(sig).selection_
    bal = GroupBalanceSelector(budget=300, alpha=0.0, mode="downsample").fit(sig.take(dedup.indices)).selection_
    assert f"input after {dedup.method}" in _render(chain(dedup, bal).manifest())
