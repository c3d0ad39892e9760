"""Read and write datasets, assign ids, parse budgets, write selections atomically."""

from datadiet._core import hash_ids, resolve_seed, uniform_keys
from datadiet._core._budget import Budget
from datadiet.io._apply import apply_selection
from datadiet.io._atomic import atomic_path, check_output_path, check_report_path
from datadiet.io._chain import chain
from datadiet.io._ids import batch_ids
from datadiet.io._read import Batch, Source, open_source
from datadiet.io._selection import Selection, manifest_path

__all__ = [
    "Batch",
    "Budget",
    "Selection",
    "Source",
    "apply_selection",
    "atomic_path",
    "batch_ids",
    "chain",
    "check_output_path",
    "check_report_path",
    "hash_ids",
    "manifest_path",
    "open_source",
    "resolve_seed",
    "uniform_keys",
]
