"""Write the HTML report of a selection."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from datadiet._core._errors import DataError
from datadiet.io._atomic import atomic_path, check_report_path
from datadiet.report._context import ReportContext, load_context
from datadiet.report._html import esc, page
from datadiet.report.views import load_views
from datadiet.signals._table import Columns

__all__ = ["write_report", "render_report"]


def render_report(ctx: ReportContext, views: list[str] | None = None) -> str:
    """The page (a string) for a loaded context; only views whose data exists are shown."""
    from datadiet.report._html import require_plotly

    require_plotly()
    sections = []
    for v in load_views(views):
        if v.available(ctx):
            sections.append((v.ID, v.TITLE, v.render(ctx)))
    m = ctx.manifest
    method = m.get("method") or "selection"
    title = f"datadiet report: {method}"
    bits = [f"<code>{esc(ctx.selection_path.name)}</code>"]
    if m.get("input"):
        bits.append(f"input <code>{esc(m['input'])}</code>")
    if m.get("seed") is not None:
        bits.append(f"seed {esc(m['seed'])}")
    from datadiet import __version__

    footer = (f"written by datadiet {esc(__version__)} on {esc(time.strftime('%Y-%m-%d %H:%M'))}; "
              "self-contained: no network needed")
    return page(title, " &middot; ".join(bits), sections, ctx.notes, footer)


def write_report(selection_path: str | os.PathLike[str], report_path: str | os.PathLike[str], *,
                 data: Any = None, overwrite: bool = False, columns: Columns | None = None,
                 views: list[str] | None = None) -> Path:
    """Write one self-contained HTML page describing a selection; return its path.

    Parameters
    ----------
    selection_path : path
        A selection written by ``datadiet select`` / :meth:`Selection.write` (its
        ``.manifest.json`` beside it is read when present).
    report_path : path
        The ``.html`` file to write (atomically).
    data : path, Source, table or None
        The input the selection was made from. With it the page shows texts,
        lengths, groups and the embedding map (when the ``embedding`` signal is
        cached). ``None``: the manifest's ``input`` is used if it still exists.
    overwrite : bool, default False
    columns : Columns, optional
        Roles of input columns, overriding the manifest's ``columns``.
    views : list of str, optional
        View modules to try (default: all of :data:`datadiet.report.views.VIEWS`).

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from datadiet.io import Selection
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = Selection.from_indices(ids=np.arange(10), indices=[1, 4], method="manual").write(d / "s.parquet")
    >>> write_report(d / "s.parquet", d / "s.html").name
    's.html'
    """
    dest = check_report_path(report_path, overwrite)
    if Path(selection_path).resolve() == dest.resolve():
        raise DataError("the report path is the selection itself; give another file name")
    from datadiet.report.views import VIEWS, load_views

    mods = load_views(views or VIEWS)
    hooks = [m.text_rows for m in mods if hasattr(m, "text_rows")]
    ctx = load_context(selection_path, data, columns=columns, text_rows=hooks)
    text = render_report(ctx, views)
    with atomic_path(dest) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return dest


