"""Data map (Swayamdipta et al., 2020): confidence vs variability across epochs, kept vs dropped.

Shown when the input has the ``confidence`` and ``variability`` score columns that
``datadiet scores`` writes from a training-dynamics recording (``--score confidence
--score variability``): easy examples sit top left, ambiguous ones on the right,
hard (often mislabelled) ones bottom left.
"""

from __future__ import annotations

import numpy as np

from datadiet.report._context import ReportContext
from datadiet.report._html import figure, outcome_color, require_plotly

ID = "data-map"
TITLE = "Data map"
#: Most points drawn (a sample keyed by id).
MAX_POINTS = 5000


def _column(ctx: ReportContext, name: str) -> np.ndarray | None:
    for key in (name, f"{name} (input)"):
        if key in ctx.scores:
            return ctx.scores[key]
    return None


def available(ctx: ReportContext) -> bool:
    return _column(ctx, "confidence") is not None and _column(ctx, "variability") is not None


def render(ctx: ReportContext) -> str:
    go = require_plotly()
    conf, var = _column(ctx, "confidence"), _column(ctx, "variability")
    assert conf is not None and var is not None
    rows = ctx.sample(np.ones(len(ctx), dtype=bool), min(MAX_POINTS, len(ctx)))
    codes, names = ctx.outcome_codes()
    fig = go.Figure()
    for i, name in enumerate(names):
        m = codes[rows] == i
        if m.any():
            fig.add_trace(go.Scatter(x=var[rows][m], y=conf[rows][m], mode="markers",
                                     name=f"{name} ({int((codes == i).sum()):,})",
                                     marker={"size": 5, "color": outcome_color(i), "opacity": 0.6}))
    fig.update_layout(xaxis={"title": "variability (std of the gold-label probability across epochs)"},
                      yaxis={"title": "confidence (mean gold-label probability)"})
    return (f"<h2>{TITLE}</h2><p class=\"help\">Each point is an example (a sample of at most {MAX_POINTS:,}). "
            "Top left: easy to learn; right: ambiguous; bottom left: hard to learn, often mislabelled.</p>"
            + figure(fig, height=420))
