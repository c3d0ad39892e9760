"""Examples with their text: the most and least typical kept rows and a sample of each drop reason."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datadiet.report._context import ReportContext
from datadiet.report._html import esc, fmt

ID = "examples"
TITLE = "Examples"
PER_GROUP = 5
SNIPPET = 600
#: Selection columns that name another row (shown with that row's text).
_LINKS = ("duplicate_of", "contaminated_by", "nearest")


def _typical(ctx: ReportContext) -> tuple[np.ndarray, np.ndarray]:
    typ = ctx.typicality()
    if typ is None:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    kept = np.flatnonzero(ctx.kept)
    order = kept[np.argsort(-typ[kept], kind="stable")]
    k = min(PER_GROUP, len(order) // 2) or min(PER_GROUP, len(order))
    return order[:k], order[::-1][:k]


def _reason_rows(ctx: ReportContext) -> list[tuple[str, np.ndarray]]:
    out = []
    if ctx.typicality() is None and ctx.kept.any():
        out.append(("kept (a sample)", ctx.sample(ctx.kept, PER_GROUP)))
    for r, name in enumerate(ctx.reason_names):
        m = ctx.reason == r
        if m.any():
            out.append((f"dropped: {name} (a sample)", ctx.sample(m, PER_GROUP)))
    return out


def _linked(ctx: ReportContext, rows: np.ndarray) -> dict[str, np.ndarray]:
    """For each link column, the positions of the rows it names (-1 when absent)."""
    out = {}
    for c in _LINKS:
        col = ctx.extra.get(c)
        if col is None or not len(rows):
            continue
        vals = col.take(pa.array(rows))
        try:
            pos = pc.index_in(vals.cast(ctx.ids.type), value_set=ctx.ids)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        out[c] = pos.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return out


def _all_rows(ctx: ReportContext) -> np.ndarray:
    top, bottom = _typical(ctx)
    rows = [top, bottom, *[r for _, r in _reason_rows(ctx)]]
    return np.concatenate(rows) if rows else np.zeros(0, np.int64)


def text_rows(ctx: ReportContext) -> np.ndarray:
    rows = _all_rows(ctx)
    linked = [p[p >= 0] for p in _linked(ctx, rows).values()]
    return np.concatenate([rows, *linked]) if linked else rows


def available(ctx: ReportContext) -> bool:
    return len(ctx) > 0


def _snippet(t: str | None, ctx: ReportContext | None = None) -> str:
    if t is None:
        hint = "pass --input DATA" if ctx is not None and ctx.source is None else "name a --text column"
        return f'<span class="help">(no text: {hint})</span>'
    t = t.strip()
    first, _, rest = t.partition("\n")
    body = " ".join(rest.split())
    if not body:
        return esc(" ".join(first.split())[:SNIPPET])
    body = body[: max(SNIPPET - len(first), 0)] + ("…" if len(body) > SNIPPET - len(first) else "")
    return f"<b>{esc(first[:200])}</b> {esc(body)}"


def _table(ctx: ReportContext, rows: np.ndarray, extra: dict[str, np.ndarray] | None = None) -> str:
    score_cols = list(ctx.scores)[:3]
    link = _linked(ctx, rows)
    head = ["id", "text", *score_cols, *(extra or {}), "repeats", "weight"]
    body = []
    for j, p in enumerate(rows):
        cells = [f"<td>{esc(ctx.id_str(p))}</td>"]
        txt = _snippet(ctx.text(p), ctx)
        for c, pos in link.items():
            if pos[j] >= 0:
                txt += (f"<br><span class=\"help\">{esc(c)} {esc(ctx.id_str(pos[j]))}: "
                        f"{_snippet((ctx.text(pos[j]) or '')[:200]) if ctx.text(pos[j]) else ''}</span>")
            elif ctx.extra[c][int(p)].is_valid:
                txt += f"<br><span class=\"help\">{esc(c)} {esc(ctx.extra[c][int(p)].as_py())}</span>"
        cells.append(f'<td class="txt">{txt}</td>')
        for s in score_cols:
            cells.append(f"<td>{esc(fmt(float(ctx.scores[s][p])))}</td>")
        for _, vals in (extra or {}).items():
            cells.append(f"<td>{esc(fmt(float(vals[j])))}</td>")
        cells.append(f"<td>{int(ctx.repeats[p])}</td><td>{esc(fmt(float(ctx.weight[p])))}</td>")
        body.append(f'<tr data-row="{int(p)}">' + "".join(cells) + "</tr>")
    return (f'<table class="examples"><thead><tr>{"".join(f"<th>{esc(h)}</th>" for h in head)}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def render(ctx: ReportContext) -> str:
    parts = [f"<h2>{TITLE}</h2><p class=\"help\">Read a few rows of each outcome. Samples are chosen by id "
             "(the same on every run).</p>"]
    top, bottom = _typical(ctx)
    typ = ctx.typicality()
    if typ is not None and len(top):
        parts.append("<h3>most typical kept (closest to the centroid of the kept embeddings)</h3>"
                     + _table(ctx, top, {"typicality": typ[top]}))
        parts.append("<h3>least typical kept</h3>" + _table(ctx, bottom, {"typicality": typ[bottom]}))
    for label, rows in _reason_rows(ctx):
        parts.append(f"<h3>{esc(label)}</h3>" + _table(ctx, rows))
    return "".join(parts)
