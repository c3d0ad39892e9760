"""Before / after histograms, aggregated in numpy (shared by the lengths and scores views)."""

from __future__ import annotations

import numpy as np

from datadiet.report._context import ReportContext
from datadiet.report._html import (
    BEFORE_COLOR,
    KEPT_COLOR,
    esc,
    figure,
    fmt,
    histogram_edges,
    require_plotly,
)

__all__ = ["before_after"]


def before_after(ctx: ReportContext, values: np.ndarray, title: str, unit: str, log_x: bool = False) -> str:
    """Share of rows per bin in the input vs in the selection (kept rows counted with their repeats)."""
    go = require_plotly()
    v = np.asarray(values, dtype=np.float64)
    x = np.log10(np.maximum(v, 1.0)) if log_x else v
    sel_w = ctx.repeats.astype(np.float64)
    fin = np.isfinite(x)
    edges = histogram_edges([x[fin]])
    if edges is None:
        return f"<p>{esc(title)}: no finite values.</p>"
    xc = np.clip(x[fin], edges[0], edges[-1])
    before, _ = np.histogram(xc, bins=edges)
    after, _ = np.histogram(xc, bins=edges, weights=sel_w[fin])
    centers = (edges[:-1] + edges[1:]) / 2
    shown = 10 ** centers if log_x else centers

    def share(a: np.ndarray) -> np.ndarray:
        return 100 * a / a.sum() if a.sum() > 0 else a.astype(np.float64)

    width = np.diff(10 ** edges if log_x else edges)
    fig = go.Figure([
        go.Bar(x=shown, y=share(before), width=width, name="input", marker_color=BEFORE_COLOR, opacity=0.75,
               hovertemplate="%{x:.4~g}: %{y:.2f}% of input<extra></extra>"),
        go.Bar(x=shown, y=share(after), width=width, name="selected", marker_color=KEPT_COLOR, opacity=0.6,
               hovertemplate="%{x:.4~g}: %{y:.2f}% of selected<extra></extra>"),
    ])
    fig.update_layout(barmode="overlay", bargap=0,
                      xaxis={"title": unit, "type": "log" if log_x else "linear"}, yaxis={"title": "share (%)"})
    kv = v[fin & (ctx.repeats > 0)]
    kw = sel_w[fin & (ctx.repeats > 0)]
    stats = (f"<p class=\"help\">input: mean {fmt(float(v[fin].mean()))}, median {fmt(float(np.median(v[fin])))}"
             + (f" &middot; selected: mean {fmt(float(np.average(kv, weights=kw)))}, "
                f"median {fmt(float(np.median(kv)))}" if kv.size else "") + "</p>")
    return figure(fig, height=340, title=title) + stats
