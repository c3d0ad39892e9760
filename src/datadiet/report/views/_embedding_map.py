"""2-D map (PCA) of the cached ``embedding`` signal, kept vs each drop reason, on a sample of points."""

from __future__ import annotations

import numpy as np

from datadiet._core._rows import unit_rows
from datadiet.report._context import ReportContext
from datadiet.report._html import esc, figure, outcome_color, require_plotly

ID = "embedding-map"
TITLE = "Embedding map"
#: Most points drawn (split evenly across outcomes).
MAX_POINTS = 5000


def available(ctx: ReportContext) -> bool:
    return ctx.embedding is not None and len(ctx) > 2


def sample_rows(ctx: ReportContext) -> np.ndarray:
    """Up to MAX_POINTS rows, the same share for each outcome (whatever they cannot use goes to the others)."""
    if "map_rows" in ctx._cache:
        return ctx._cache["map_rows"]
    codes, names = ctx.outcome_codes()
    sizes = np.bincount(codes, minlength=len(names))
    quota = np.zeros(len(names), dtype=np.int64)
    left, open_ = MAX_POINTS, sizes > 0
    while left > 0 and open_.any():
        each = left // int(open_.sum())
        if each == 0:  # fewer points left than open outcomes: one each to the first ones
            open_ &= np.cumsum(open_) <= left
            each = 1
        take = np.minimum(sizes - quota, each) * open_
        quota += take
        left -= int(take.sum())
        open_ &= quota < sizes
        if take.sum() == 0:
            break
    rows = np.concatenate([ctx.sample(codes == i, int(q)) for i, q in enumerate(quota) if q > 0])
    ctx._cache["map_rows"] = np.sort(rows)
    return ctx._cache["map_rows"]


def text_rows(ctx: ReportContext) -> np.ndarray:
    return sample_rows(ctx) if available(ctx) else np.zeros(0, np.int64)


def _pca2(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = unit_rows(np.array(x, copy=True))
    xc = x - x.mean(axis=0)
    evals, evecs = np.linalg.eigh(xc.T @ xc)  # d x d: cheaper than an SVD of the sample
    top = np.argsort(evals)[::-1][:2]
    var = np.maximum(evals[top], 0) / max(float(np.maximum(evals, 0).sum()), 1e-12)
    return xc @ evecs[:, top], var


def render(ctx: ReportContext) -> str:
    assert ctx.embedding is not None
    go = require_plotly()
    rows = sample_rows(ctx)
    xy, var = _pca2(np.asarray(ctx.embedding[rows], dtype=np.float64))
    codes, names = ctx.outcome_codes()
    fig = go.Figure()
    for i, name in enumerate(names):
        m = codes[rows] == i
        if not m.any():
            continue
        hover = []
        for p in rows[m]:
            t = ctx.text(p)
            snippet = "" if t is None else "<br>" + esc(" ".join(t[:140].split()))
            hover.append(esc(ctx.id_str(p)) + snippet)
        fig.add_trace(go.Scatter(x=xy[m, 0], y=xy[m, 1], mode="markers", name=f"{name} ({int(m.sum()):,})",
                                 marker={"size": 5, "color": outcome_color(i), "opacity": 0.7},
                                 text=hover, hovertemplate="%{text}<extra>" + esc(name) + "</extra>"))
    fig.update_layout(xaxis={"title": f"PC1 ({100 * var[0]:.1f}% of variance)", "zeroline": False},
                      yaxis={"title": f"PC2 ({100 * var[1]:.1f}% of variance)" if len(var) > 1 else "PC2",
                             "zeroline": False},
                      legend={"orientation": "h", "y": 1.08, "x": 1, "xanchor": "right"})
    dim = ctx.embedding.shape[1]
    return (f"<h2>{TITLE}</h2><p class=\"help\">The cached <code>embedding</code> signal ({dim}-d) projected on "
            f"its first two principal components: {len(rows):,} of {len(ctx):,} rows, sampled evenly across "
            "outcomes (so colours are comparable; densities are not).</p>" + figure(fig, height=560))
