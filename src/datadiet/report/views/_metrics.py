"""Metrics recorded in the manifest (KL reduction, coverage, diversity, balance, tokens...)."""

from __future__ import annotations

from typing import Any

from datadiet.report._context import ReportContext
from datadiet.report._html import esc, fmt, table

ID = "metrics"
TITLE = "Metrics"
#: Nested metric dicts shown by other views.
_SHOWN_ELSEWHERE = ("groups",)


def _flatten(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            if not prefix and k in _SHOWN_ELSEWHERE:
                continue
            if len(prefix.split(".")) < 3:
                out.extend(_flatten(v, key + "."))
        elif isinstance(v, (int, float, str, bool)) or v is None:
            out.append((key, v))
        elif isinstance(v, list) and len(v) <= 10:
            out.append((key, ", ".join(fmt(x) for x in v)))
    return out


def _rows(ctx: ReportContext) -> list[tuple[str, Any]]:
    m = ctx.manifest.get("metrics") or {}
    return _flatten(m) if isinstance(m, dict) else []


def available(ctx: ReportContext) -> bool:
    return bool(_rows(ctx))


def render(ctx: ReportContext) -> str:
    rows = _rows(ctx)
    m = ctx.manifest.get("metrics") or {}
    if isinstance(m.get("tokens_kept"), (int, float)) and m.get("tokens_input"):
        rows.append(("tokens kept / input", f"{100 * m['tokens_kept'] / m['tokens_input']:.1f}%"))
    attrs = [f'data-metric="{esc(k)}"' for k, _ in rows]
    return (f"<h2>{TITLE}</h2><p class=\"help\">What the method measured about its result, as recorded in "
            "the manifest.</p>" + table(["metric", "value"], rows, attrs=attrs))
