"""Semantic duplicates just above the threshold: the pairs a user should read before trusting it.

Semantic dedup records the linked pairs closest above its cosine threshold
(``semantic_near_threshold`` in the manifest's metrics); this view shows them side
by side with their texts, so a threshold that links unrelated texts is seen at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datadiet.report._context import ReportContext
from datadiet.report._html import esc

ID = "near-threshold"
TITLE = "Pairs near the threshold"
SNIPPET = 400


def _pairs(ctx: ReportContext) -> list[dict[str, Any]]:
    metrics = ctx.manifest.get("metrics") or {}
    pairs = metrics.get("semantic_near_threshold") if isinstance(metrics, dict) else None
    return [p for p in pairs or [] if isinstance(p, dict) and {"a", "b", "cosine"} <= set(p)]


def _positions(ctx: ReportContext, ids: list[Any]) -> list[int | None]:
    if not ids:
        return []
    found = pc.index_in(pa.array(ids).cast(ctx.ids.type), value_set=ctx.ids).to_pylist()
    return [None if f is None else int(f) for f in found]


def available(ctx: ReportContext) -> bool:
    return bool(_pairs(ctx))


def text_rows(ctx: ReportContext) -> np.ndarray:
    pairs = _pairs(ctx)
    pos = _positions(ctx, [p[k] for p in pairs for k in ("a", "b")])
    return np.asarray(sorted({p for p in pos if p is not None}), dtype=np.int64)


def render(ctx: ReportContext) -> str:
    pairs = _pairs(ctx)
    pos = _positions(ctx, [p[k] for p in pairs for k in ("a", "b")])
    threshold = (ctx.manifest.get("params") or {}).get("threshold")
    rows = []
    for i, p in enumerate(pairs):
        cells = []
        for j, key in enumerate(("a", "b")):
            at = pos[2 * i + j]
            text = ctx.text(at) if at is not None else None
            snippet = "" if text is None else esc(" ".join(text[:SNIPPET].split()))
            cells.append(f"<td><b>{esc(str(p[key]))}</b><br>{snippet}</td>")
        rows.append(f"<tr><td>{float(p['cosine']):.4f}</td>{''.join(cells)}</tr>")
    head = "" if threshold is None else f" (threshold {esc(str(threshold))})"
    return (f"<h2>{TITLE}</h2><p class=\"help\">The semantic duplicates closest above the cosine threshold"
            f"{head}. If these texts do not say the same thing, the threshold is too low for this model.</p>"
            "<table><tr><th>cosine</th><th>row</th><th>linked row</th></tr>" + "".join(rows) + "</table>")
