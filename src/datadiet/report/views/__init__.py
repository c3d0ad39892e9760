"""Report views: one small module each, shown only when their data exists.

A view is a module with

* ``ID`` (the section's HTML id) and ``TITLE``;
* ``available(ctx) -> bool``: whether the data it needs is in the
  :class:`~datadiet.report.ReportContext`;
* ``render(ctx) -> str``: an HTML fragment (a heading, a one-line help text,
  tables and plotly charts made with :func:`datadiet.report._html.figure`);
* optionally ``text_rows(ctx) -> positions``: rows whose text it shows (read in
  the one streaming pass over the input).

To add a view (e.g. hard-negative score histograms), write the module and add
its name to :data:`VIEWS`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["VIEWS", "load_views"]

#: Modules of the views, in page order.
VIEWS = [
    "datadiet.report.views._counts",
    "datadiet.report.views._metrics",
    "datadiet.report.views._groups",
    "datadiet.report.views._lengths",
    "datadiet.report.views._scores",
    "datadiet.report.views._data_map",
    "datadiet.report.views._near_threshold",
    "datadiet.report.views._weights",
    "datadiet.report.views._embedding_map",
    "datadiet.report.views._examples",
    "datadiet.report.views._run",
]


def load_views(names: list[str] | None = None) -> list[ModuleType]:
    """Import the view modules (all of :data:`VIEWS` by default)."""
    return [importlib.import_module(n) for n in (names or VIEWS)]
