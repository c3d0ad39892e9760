"""Execution: the local engine streams batches in-process."""

from datadiet.engine._dsir import dsir_select
from datadiet.engine._progress import progress, set_progress
from datadiet.engine._scan import for_each_batch, load_signals, total_rows

__all__ = ["dsir_select", "for_each_batch", "load_signals", "progress", "set_progress", "total_rows"]
