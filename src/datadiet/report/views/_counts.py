"""Kept and dropped: one card per outcome (counts from the manifest) and a stacked bar."""

from __future__ import annotations

from datadiet.report._context import ReportContext
from datadiet.report._html import esc, figure, fmt, outcome_color, require_plotly

ID = "counts"
TITLE = "Kept and dropped"


def available(ctx: ReportContext) -> bool:
    return len(ctx) > 0 or bool(ctx.manifest.get("counts"))


def _card(key: str, label: str, value: float, share: str, color: str) -> str:
    return (f'<div class="card" style="border-left-color:{color}" data-count="{esc(key)}" '
            f'data-value="{esc(value)}"><span class="n">{esc(fmt(value))}</span>'
            f'<span class="label">{esc(label)}</span><span class="share">{esc(share)}</span></div>')


def render(ctx: ReportContext) -> str:
    counts = ctx.counts()
    n = int(ctx.manifest.get("n_input", sum(counts.values())))
    cards = [_card("n_input", "input rows", n, "", "#264653")]
    names = list(counts)
    for i, name in enumerate(names):
        share = f"{100 * counts[name] / n:.1f}%" if n else ""
        label = "kept" if name == "kept" else f"dropped: {name}"
        cards.append(_card(name, label, counts[name], share, outcome_color(i)))
    total_rep = ctx.manifest.get("total_repeats", int(ctx.repeats.sum()))
    total_w = ctx.manifest.get("total_weight", float(ctx.weight.sum()))
    n_kept = counts.get("kept", ctx.n_kept)
    if total_rep is not None and int(total_rep) != int(n_kept):
        cards.append(_card("total_repeats", "examples with repeats", int(total_rep), "", "#f4a261"))
    if total_w is not None and abs(float(total_w) - float(n_kept)) > 1e-6 * max(1.0, float(n_kept)):
        cards.append(_card("total_weight", "total weight", float(total_w), "", "#e9c46a"))
    out = [f"<h2>{TITLE}</h2>",
           '<p class="help">Rows of the input the selection keeps, and why the others were dropped '
           "(counts recorded in the manifest).</p>",
           '<div class="cards">' + "".join(cards) + "</div>"]
    table_counts = ctx.table_counts()
    if ctx.manifest.get("counts") and table_counts != counts:
        out.append(f'<p class="warn">The selection file holds {esc(table_counts)}, which differs from the '
                   "manifest: the files may not belong together.</p>")
    go = require_plotly()
    fig = go.Figure()
    for i, name in enumerate(names):
        fig.add_trace(go.Bar(y=["rows"], x=[counts[name]], name=name, orientation="h",
                             marker_color=outcome_color(i), hovertemplate=f"{esc(name)}: %{{x:,}}<extra></extra>"))
    fig.update_layout(barmode="stack", yaxis={"visible": False}, xaxis={"title": "rows"})
    out.append(figure(fig, height=170))
    return "".join(out)
