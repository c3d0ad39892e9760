"""metrics layer."""

from datadiet.metrics._kl import kl_divergence, kl_reduction

__all__ = ["kl_divergence", "kl_reduction"]
