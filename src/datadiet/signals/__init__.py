"""Featurizers and the signal table."""

from datadiet.signals._cache import SignalCache
from datadiet.signals._ngrams import NgramBatch, hashed_ngrams, iter_ngrams, ngram_counts
from datadiet.signals._table import Columns, Signals, encode_groups
from datadiet.signals._tokens import BYTES_PER_TOKEN, estimate_tokens

__all__ = ["BYTES_PER_TOKEN", "NgramBatch", "SignalCache", "hashed_ngrams", "iter_ngrams", "ngram_counts", "Columns", "Signals", "encode_groups", "estimate_tokens"]
