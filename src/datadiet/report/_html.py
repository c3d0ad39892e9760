"""Small HTML helpers shared by the views, and the page around them (styles and plotly.js inlined)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from datadiet._core._errors import MissingExtraError

__all__ = ["esc", "fmt", "table", "figure", "histogram_edges", "page", "OUTCOME_COLORS", "outcome_color",
           "require_plotly"]

KEPT_COLOR = "#2a9d8f"
_DROP_COLORS = ["#e76f51", "#8d99ae", "#f4a261", "#9b5de5", "#e9c46a", "#6c757d", "#d62828", "#457b9d"]
OUTCOME_COLORS = {"kept": KEPT_COLOR}
BEFORE_COLOR = "#adb5bd"


def outcome_color(i: int) -> str:
    """Colour of outcome ``i`` (0 = kept, then drop reasons in order)."""
    return KEPT_COLOR if i == 0 else _DROP_COLORS[(i - 1) % len(_DROP_COLORS)]


def esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def fmt(v: Any) -> str:
    """Numbers for people: thousands separators, 4 significant digits for floats."""
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if not np.isfinite(f):
            return str(f)
        if f == int(f) and abs(f) < 1e15:
            return f"{int(f):,}"
        return f"{f:.4g}"
    return str(v)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, cls: str = "", raw: bool = False,
          attrs: Iterable[str] | None = None) -> str:
    """An HTML table; cells are escaped unless ``raw``; ``attrs`` adds attributes per row."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    row_attrs = list(attrs) if attrs is not None else None
    for i, r in enumerate(rows):
        cells = "".join(f"<td>{c if raw else esc(fmt(c))}</td>" for c in r)
        a = f" {row_attrs[i]}" if row_attrs is not None else ""
        body.append(f"<tr{a}>{cells}</tr>")
    return f'<table class="{esc(cls)}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def require_plotly() -> Any:
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise MissingExtraError("the HTML report needs plotly; install it with: pip install 'datadiet[report]'") from None
    return go


def figure(fig: Any, height: int = 360, title: str | None = None) -> str:
    """A plotly figure as an HTML fragment (plotly.js itself is inlined once by :func:`page`)."""
    import plotly.io as pio

    if fig.layout.showlegend is not False:
        fig.update_layout(legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom",
                                  "traceorder": "normal"})
    head = f"<h3>{esc(title)}</h3>" if title else ""
    axis = {"gridcolor": "#e9ecef", "linecolor": "#ced4da", "zerolinecolor": "#ced4da"}
    # a few layout values instead of template="plotly_white": assigning a template deep-copies it (~0.2 s)
    fig.update_xaxes(**axis)
    fig.update_yaxes(**axis)
    fig.update_layout(height=height, margin={"l": 60, "r": 20, "t": 40, "b": 50}, plot_bgcolor="white",
                      paper_bgcolor="white",
                      font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12})
    return (head + '<div class="chart">' + pio.to_html(
        fig, full_html=False, include_plotlyjs=False,
        config={"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["sendDataToCloud"]},
    ) + "</div>")


def histogram_edges(values: Sequence[np.ndarray], bins: int = 40) -> np.ndarray | None:
    """Shared bin edges over the 0.5-99.5 % range of all finite values (None when there are none)."""
    finite = [v[np.isfinite(v)] for v in values if v is not None and len(v)]
    finite = [v for v in finite if len(v)]
    if not finite:
        return None
    allv = np.concatenate(finite)
    lo, hi = np.quantile(allv, [0.005, 0.995]) if allv.size > 200 else (allv.min(), allv.max())
    if hi <= lo:
        lo, hi = float(allv.min()) - 0.5, float(allv.max()) + 0.5
    if np.issubdtype(allv.dtype, np.integer) or np.all(allv == np.round(allv)):
        lo, hi = np.floor(lo), np.ceil(hi)
        width = max(1.0, np.ceil((hi - lo) / bins))
        return np.arange(lo, hi + width, width)
    return np.linspace(lo, hi, bins + 1)


_CSS = """
:root { --fg:#1f2933; --muted:#616e7c; --line:#e4e7eb; --bg:#f7f8fa; --kept:#2a9d8f; --accent:#264653; }
* { box-sizing: border-box; }
body { margin:0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg);
       background:var(--bg); line-height:1.45; }
header { background:var(--accent); color:#fff; padding:18px 28px; }
header h1 { margin:0 0 4px 0; font-size:22px; font-weight:600; }
header .sub { opacity:.9; font-size:13px; word-break: break-all; }
header code { background:rgba(255,255,255,.15); color:#fff; }
nav { position:sticky; top:0; z-index:10; background:#fff; border-bottom:1px solid var(--line);
      padding:8px 28px; font-size:13px; }
nav a { color:var(--accent); margin-right:14px; text-decoration:none; white-space:nowrap; }
main { max-width:1200px; margin:0 auto; padding:18px 28px 60px; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px 20px; margin:16px 0; }
section h2 { margin:0 0 4px 0; font-size:18px; }
section p.help { margin:0 0 12px 0; color:var(--muted); font-size:13px; }
h3 { font-size:14px; margin:14px 0 6px; }
table { border-collapse:collapse; font-size:13px; margin:6px 0 10px; }
th, td { border-bottom:1px solid var(--line); padding:4px 10px; text-align:right; vertical-align:top; }
th:first-child, td:first-child { text-align:left; }
th { color:var(--muted); font-weight:600; }
table.examples td, table.examples th { text-align:left; }
table.examples td.txt { max-width:760px; word-break:break-word; }
table.examples td.txt b { font-weight:600; }
.cards { display:flex; flex-wrap:wrap; gap:10px; margin:8px 0 12px; }
.card { border:1px solid var(--line); border-left:5px solid #8d99ae; border-radius:6px; padding:8px 14px;
        min-width:150px; background:#fff; }
.card .n { font-size:22px; font-weight:650; display:block; font-variant-numeric: tabular-nums; }
.card .label { color:var(--muted); font-size:12px; }
.card .share { color:var(--muted); font-size:12px; margin-left:6px; }
.notes { background:#fff8e1; border:1px solid #ffe08a; border-radius:6px; padding:8px 14px; font-size:13px; }
.warn { color:#b02a37; }
.chart { width:100%; }
.grid2 { display:grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap:12px; }
code { background:#f1f3f5; padding:1px 4px; border-radius:3px; font-size:12px; }
footer { color:var(--muted); font-size:12px; text-align:center; padding:20px; }
"""


def page(title: str, subtitle: str, sections: list[tuple[str, str, str]], notes: list[str], footer: str,
         plotly_js: bool = True) -> str:
    """The whole page: ``sections`` are ``(id, title, html)``; plotly.js is inlined in the head once."""
    js = ""
    if plotly_js:
        from plotly.offline import get_plotlyjs

        js = "<script>" + get_plotlyjs().replace("</script", "<\\/script") + "</script>"
    nav = "".join(f'<a href="#{esc(sid)}">{esc(t)}</a>' for sid, t, _ in sections)
    note = ""
    if notes:
        note = '<div class="notes" id="notes">' + "<br>".join(esc(n) for n in notes) + "</div>"
    body = "".join(f'<section id="{esc(sid)}" data-view="{esc(sid)}">{h}</section>' for sid, _, h in sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{esc(title)}</title><style>{_CSS}</style>{js}</head><body>"
        f"<header><h1>{esc(title)}</h1><div class=\"sub\">{subtitle}</div></header>"
        f"<nav>{nav}</nav><main>{note}{body}</main><footer>{footer}</footer></body></html>\n"
    )
