"""HTML report and terminal summary of a selection."""

from datadiet.report._context import ReportContext, load_context
from datadiet.report._write import render_report, write_report
from datadiet.report.summary import summary_renderables

__all__ = ["ReportContext", "load_context", "render_report", "summary_renderables", "write_report"]
