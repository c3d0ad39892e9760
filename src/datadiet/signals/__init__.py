"""Featurizers and the signal table."""

from datadiet.signals._cache import SignalCache
from datadiet.signals._embed import embed_source, embedding_params, load_embedding
from datadiet.signals._encoders import Encoder, get_encoder
from datadiet.signals._hashed import HashedEncoder
from datadiet.signals._ngrams import NgramBatch, hashed_ngrams, iter_ngrams, ngram_counts
from datadiet.signals._table import ClusterSignal, Columns, MinHashSignal, Signals, encode_groups
from datadiet.signals._tokens import BYTES_PER_TOKEN, estimate_tokens

__all__ = ["BYTES_PER_TOKEN", "NgramBatch", "SignalCache", "hashed_ngrams", "iter_ngrams", "ngram_counts", "ClusterSignal", "Columns", "MinHashSignal", "Encoder", "HashedEncoder", "Signals", "embed_source",
           "embedding_params", "encode_groups", "estimate_tokens", "get_encoder", "load_embedding"]
