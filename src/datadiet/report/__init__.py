"""HTML report and terminal summary of a selection."""

from datadiet.report.summary import summary_renderables

__all__ = ["summary_renderables"]
