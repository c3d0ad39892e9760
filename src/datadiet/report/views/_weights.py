"""Repeat counts and weights of the kept rows (shown when some row is repeated or reweighted)."""

from __future__ import annotations

import numpy as np

from datadiet.report._context import ReportContext
from datadiet.report._html import KEPT_COLOR, figure, fmt, require_plotly, table

ID = "weights"
TITLE = "Repeats and weights"


def available(ctx: ReportContext) -> bool:
    k = ctx.kept
    return bool(k.any()) and (bool((ctx.repeats[k] != 1).any()) or bool((ctx.weight[k] != 1.0).any()))


def render(ctx: ReportContext) -> str:
    go = require_plotly()
    k = ctx.kept
    reps = ctx.repeats[k]
    w = ctx.weight[k]
    parts = [f"<h2>{TITLE}</h2><p class=\"help\">How often each kept example appears in the training set "
             "(repeats) and its loss weight.</p><div class=\"grid2\">"]
    if (reps != 1).any():
        cnt = np.bincount(reps)
        vals = np.flatnonzero(cnt)
        fig = go.Figure(go.Bar(x=[str(v) for v in vals], y=cnt[vals], marker_color=KEPT_COLOR,
                               hovertemplate="repeated %{x}×: %{y:,} examples<extra></extra>"))
        log_y = cnt[vals].max() > 50 * max(cnt[vals].min(), 1)
        fig.update_layout(xaxis={"title": "repeats", "type": "category"},
                          yaxis={"title": "kept examples" + (" (log scale)" if log_y else ""),
                                 "type": "log" if log_y else "linear", **({"dtick": 1} if log_y else {})})
        parts.append("<div>" + figure(fig, 300, "repeat count") + table(
            ["repeats", "examples"], [(int(v), int(cnt[v])) for v in vals[:30]]) + "</div>")
    if (w != 1.0).any():
        uniq = np.unique(w)
        if uniq.size <= 30:
            xs, ys = [fmt(float(u)) for u in uniq], [int((w == u).sum()) for u in uniq]
            fig = go.Figure(go.Bar(x=xs, y=ys, marker_color=KEPT_COLOR))
            fig.update_xaxes(type="category")
        else:
            ys_, edges = np.histogram(w, bins=40)
            fig = go.Figure(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=ys_, width=np.diff(edges),
                                   marker_color=KEPT_COLOR))
        fig.update_layout(xaxis={"title": "weight"}, yaxis={"title": "kept examples"}, bargap=0.05)
        summary = table(["", "value"], [("min", float(w.min())), ("median", float(np.median(w))),
                                        ("max", float(w.max())), ("sum", float(w.sum()))])
        parts.append("<div>" + figure(fig, 300, "weight") + summary + "</div>")
    return "".join(parts) + "</div>"
