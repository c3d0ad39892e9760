"""Score distributions before and after selection (method scores of the selection, input score columns)."""

from __future__ import annotations

from datadiet.report._context import ReportContext
from datadiet.report.views._hist import before_after

ID = "scores"
TITLE = "Scores"


def available(ctx: ReportContext) -> bool:
    return bool(ctx.scores)


def render(ctx: ReportContext) -> str:
    parts = [f"<h2>{TITLE}</h2><p class=\"help\">Distribution of each score over the input (grey) and over the "
             "selection (green, repeats counted).</p><div class=\"grid2\">"]
    for name, values in ctx.scores.items():
        parts.append("<div>" + before_after(ctx, values, name, name) + "</div>")
    return "".join(parts) + "</div>"
