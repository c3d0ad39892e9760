"""Before / after share of each group (input group or label column, clusters of the selection)."""

from __future__ import annotations

from typing import Any

import numpy as np

from datadiet.report._context import ReportContext
from datadiet.report._html import BEFORE_COLOR, KEPT_COLOR, figure, require_plotly, table

ID = "groups"
TITLE = "Groups"
MAX_GROUPS = 40


def _from_codes(ctx: ReportContext, codes: np.ndarray, names: list[str]) -> dict[str, dict[str, float]]:
    g = len(names)
    n_in = np.bincount(codes, minlength=g)
    n_kept = np.bincount(codes, weights=ctx.kept, minlength=g)
    reps = np.bincount(codes, weights=ctx.repeats, minlength=g)
    wsum = np.bincount(codes, weights=ctx.weight, minlength=g)
    return {names[i]: {"input": int(n_in[i]), "kept": int(n_kept[i]), "repeats": int(reps[i]),
                       "weight": float(wsum[i])} for i in range(g)}


def _groupings(ctx: ReportContext) -> list[tuple[str, dict[str, dict[str, Any]]]]:
    out = [(name, _from_codes(ctx, codes, names)) for name, (codes, names) in ctx.groups.items()]
    if not out:
        mg = (ctx.manifest.get("metrics") or {}).get("groups")
        if isinstance(mg, dict) and mg and all(isinstance(v, dict) for v in mg.values()):
            col = (ctx.manifest.get("columns") or {})
            label = col.get("group") or col.get("label") or "group"
            out.append((str(label), {str(k): dict(v) for k, v in mg.items()}))
    return out


def available(ctx: ReportContext) -> bool:
    return bool(_groupings(ctx))


def _fold(stats: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    items = sorted(stats.items(), key=lambda kv: -float(kv[1].get("input", 0)))
    if len(items) <= MAX_GROUPS:
        return sorted(items, key=lambda kv: kv[0])
    head, tail = items[: MAX_GROUPS - 1], items[MAX_GROUPS - 1 :]
    other: dict[str, Any] = {k: sum(float(d.get(k, 0)) for _, d in tail) for k in ("input", "kept", "repeats", "weight")}
    return [*head, (f"other ({len(tail):,} groups)", other)]


def _one(name: str, stats: dict[str, dict[str, Any]]) -> str:
    go = require_plotly()
    items = _fold(stats)
    labels = [k for k, _ in items]
    n_in = np.array([float(d.get("input", 0)) for _, d in items])
    kept = np.array([float(d.get("kept", 0)) for _, d in items])
    reps = np.array([float(d.get("repeats", d.get("kept", 0))) for _, d in items])
    wts = np.array([float(d.get("weight", d.get("kept", 0))) for _, d in items])
    after, after_label = kept, "kept"
    if not np.allclose(wts, kept):
        after, after_label = wts, "selected, by weight"
    elif (reps != kept).any():
        after, after_label = reps, "selected, with repeats"

    def share(a: np.ndarray) -> np.ndarray:
        return 100 * a / a.sum() if a.sum() > 0 else a

    fig = go.Figure([
        go.Bar(x=labels, y=share(n_in), name="input", marker_color=BEFORE_COLOR,
               customdata=n_in, hovertemplate="%{x}<br>input: %{customdata:,} rows (%{y:.1f}%)<extra></extra>"),
        go.Bar(x=labels, y=share(after), name=after_label, marker_color=KEPT_COLOR,
               customdata=after, hovertemplate="%{x}<br>" + after_label
               + ": %{customdata:,.4~g} (%{y:.1f}%)<extra></extra>"),
    ])
    fig.update_layout(barmode="group", yaxis={"title": "share (%)"})
    rows = [(k, d.get("input", 0), d.get("kept", 0), d.get("repeats", d.get("kept", 0)), d.get("weight", 0),
             f"{100 * float(d.get('kept', 0)) / float(d['input']):.1f}%" if d.get("input") else "")
            for k, d in items]
    tbl = table([name, "input", "kept", "with repeats", "weight", "kept / input"], rows, cls="groups")
    return figure(fig, height=380, title=name) + f"<details open><summary>counts</summary>{tbl}</details>"


def render(ctx: ReportContext) -> str:
    parts = [f"<h2>{TITLE}</h2><p class=\"help\">Share of each group in the input (grey) and in the selection "
             "(green). Counts are in the tables.</p>"]
    for name, stats in _groupings(ctx):
        parts.append(_one(name, stats))
    return "".join(parts)
