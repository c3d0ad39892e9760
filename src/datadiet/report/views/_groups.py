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


def _after(kept: np.ndarray, reps: np.ndarray, wts: np.ndarray) -> tuple[np.ndarray, str]:
    if not np.allclose(wts, kept):
        return wts, "selected, by weight"
    if (reps != kept).any():
        return reps, "selected, with repeats"
    return kept, "kept"


def _share(a: np.ndarray) -> np.ndarray:
    return 100 * a / a.sum() if a.sum() > 0 else a


def _arrays(items: list[tuple[str, dict[str, Any]]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n_in = np.array([float(d.get("input", 0)) for _, d in items])
    kept = np.array([float(d.get("kept", 0)) for _, d in items])
    reps = np.array([float(d.get("repeats", d.get("kept", 0))) for _, d in items])
    wts = np.array([float(d.get("weight", d.get("kept", 0))) for _, d in items])
    return n_in, kept, reps, wts


def _bars(go: Any, items: list[tuple[str, dict[str, Any]]]) -> Any:
    labels = [k for k, _ in items]
    n_in, kept, reps, wts = _arrays(items)
    after, after_label = _after(kept, reps, wts)
    fig = go.Figure([
        go.Bar(x=labels, y=_share(n_in), name="input", marker_color=BEFORE_COLOR,
               customdata=n_in, hovertemplate="%{x}<br>input: %{customdata:,} rows (%{y:.1f}%)<extra></extra>"),
        go.Bar(x=labels, y=_share(after), name=after_label, marker_color=KEPT_COLOR,
               customdata=after, hovertemplate="%{x}<br>" + after_label
               + ": %{customdata:,.4~g} (%{y:.1f}%)<extra></extra>"),
    ])
    fig.update_layout(barmode="group", yaxis={"title": "share (%)"})
    return fig


def _scatter(go: Any, stats: dict[str, dict[str, Any]]) -> Any:
    """Many groups: one point per group, share in the input vs in the selection (y = x: unchanged)."""
    items = list(stats.items())
    n_in, kept, reps, wts = _arrays(items)
    after, after_label = _after(kept, reps, wts)
    x, y = _share(n_in), _share(after)
    top = float(max(x.max(initial=0), y.max(initial=0))) * 1.05 or 1.0
    fig = go.Figure([
        go.Scatter(x=[0, top], y=[0, top], mode="lines", name="unchanged share",
                   line={"color": BEFORE_COLOR, "dash": "dash"}, hoverinfo="skip"),
        go.Scatter(x=x, y=y, mode="markers", name=f"groups ({len(items):,})",
                   marker={"color": KEPT_COLOR, "size": 6, "opacity": 0.7},
                   text=[k for k, _ in items],
                   hovertemplate="%{text}<br>input %{x:.3f}% → %{y:.3f}%<extra></extra>"),
    ])
    fig.update_layout(xaxis={"title": "share of input (%)"}, yaxis={"title": f"share, {after_label} (%)"})
    return fig


def _one(name: str, stats: dict[str, dict[str, Any]]) -> str:
    go = require_plotly()
    items = _fold(stats)
    many = len(stats) > MAX_GROUPS
    fig = _scatter(go, stats) if many else _bars(go, items)
    rows = [(k, d.get("input", 0), d.get("kept", 0), d.get("repeats", d.get("kept", 0)), d.get("weight", 0),
             f"{100 * float(d.get('kept', 0)) / float(d['input']):.1f}%" if d.get("input") else "")
            for k, d in items]
    tbl = table([name, "input", "kept", "with repeats", "weight", "kept / input"], rows, cls="groups")
    title = f"{name} ({len(stats):,} groups)" if many else name
    summary = f"counts (largest {MAX_GROUPS - 1} groups, the rest folded)" if many else "counts"
    return (figure(fig, height=420 if many else 380, title=title)
            + f"<details{' open' if len(items) <= 12 else ''}><summary>{summary}</summary>{tbl}</details>")


def render(ctx: ReportContext) -> str:
    parts = [f"<h2>{TITLE}</h2><p class=\"help\">Share of each group in the input (grey) and in the selection "
             "(green). Counts are in the tables.</p>"]
    for name, stats in _groupings(ctx):
        parts.append(_one(name, stats))
    return "".join(parts)
