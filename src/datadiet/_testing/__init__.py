"""Loaders of real offline corpora for the demo, tests and benchmarks (not public API)."""

from datadiet._testing.corpora import (
    bbc_news,
    fashion_mnist,
    package_dir,
    rotten_tomatoes,
    write_jsonl,
)

__all__ = ["bbc_news", "fashion_mnist", "package_dir", "rotten_tomatoes", "write_jsonl"]
