"""Metrics of a selection: KL reduction, coverage and diversity in embedding space."""

from datadiet.metrics._coverage import coverage_metrics
from datadiet.metrics._kl import kl_divergence, kl_reduction

__all__ = ["coverage_metrics", "kl_divergence", "kl_reduction"]
