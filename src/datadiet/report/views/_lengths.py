"""Length (token count) distribution before and after selection."""

from __future__ import annotations

import numpy as np

from datadiet.report._context import ReportContext
from datadiet.report._html import esc, fmt
from datadiet.report.views._hist import before_after

ID = "lengths"
TITLE = "Lengths"


def available(ctx: ReportContext) -> bool:
    return ctx.lengths is not None and len(ctx.lengths) == len(ctx)


def render(ctx: ReportContext) -> str:
    assert ctx.lengths is not None
    L = ctx.lengths
    pos = L[L > 0]
    log_x = bool(pos.size) and float(np.quantile(pos, 0.99)) > 20 * max(float(np.quantile(pos, 0.01)), 1.0)
    total_in = float(L.sum())
    total_sel = float((L * ctx.repeats).sum())
    head = (f"<h2>{TITLE}</h2><p class=\"help\">Length of each example in {esc(ctx.length_unit)}; the selection "
            f"holds {esc(fmt(total_sel))} of the input's {esc(fmt(total_in))} "
            f"({100 * total_sel / total_in:.1f}%, repeats counted).</p>" if total_in else f"<h2>{TITLE}</h2>")
    return head + before_after(ctx, L, "length", ctx.length_unit.split(" ")[0], log_x=log_x)
