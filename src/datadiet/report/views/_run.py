"""How the selection was made: method, parameters, seed, input, version."""

from __future__ import annotations

import json

from datadiet.report._context import ReportContext
from datadiet.report._html import esc, table

ID = "run"
TITLE = "Run"
_SKIP = {"counts", "metrics", "params"}


def available(ctx: ReportContext) -> bool:
    return bool(ctx.manifest)


def render(ctx: ReportContext) -> str:
    m = ctx.manifest
    rows = [(k, v if not isinstance(v, (dict, list)) else json.dumps(v)) for k, v in m.items() if k not in _SKIP]
    params = m.get("params") or {}
    prow = [(k, v if not isinstance(v, (dict, list)) else json.dumps(v)) for k, v in params.items()]
    out = [f"<h2>{TITLE}</h2><p class=\"help\">How this selection was made (from "
           f"<code>{esc(ctx.selection_path.name)}</code> and its manifest).</p>",
           table(["field", "value"], rows)]
    if prow:
        out.append("<h3>parameters</h3>" + table(["parameter", "value"], prow))
    if ctx.embedding_info:
        out.append("<h3>embedding signal</h3>" + table(["field", "value"], [
            (k, v if not isinstance(v, dict) else json.dumps(v)) for k, v in ctx.embedding_info.items()]))
    return "".join(out)
