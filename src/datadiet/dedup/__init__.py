"""Deduplication: exact, MinHash near-duplicate and semantic, with a record of every duplicate."""

from datadiet.dedup._base import KEEP_POLICIES, BaseDedup
from datadiet.dedup._exact import ExactDedup
from datadiet.dedup._lsh import LSHParams, choose_bands, components
from datadiet.dedup._minhash import (
    jaccard_pairs,
    minhash_signal,
    minhash_signatures,
    shingle_hashes,
)
from datadiet.dedup._near import NearDedup
from datadiet.dedup._normalize import Normalization, normalize_text
from datadiet.dedup._pipeline import Dedup
from datadiet.dedup._semantic import (
    MEASURED_THRESHOLDS,
    SemanticDedup,
    SemanticThresholdWarning,
    random_pair_cosines,
)

__all__ = [
    "MEASURED_THRESHOLDS",
    "SemanticThresholdWarning",
    "random_pair_cosines",
    "KEEP_POLICIES",
    "BaseDedup",
    "Dedup",
    "ExactDedup",
    "LSHParams",
    "NearDedup",
    "Normalization",
    "SemanticDedup",
    "choose_bands",
    "components",
    "jaccard_pairs",
    "minhash_signal",
    "minhash_signatures",
    "normalize_text",
    "shingle_hashes",
]
