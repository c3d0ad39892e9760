"""A no-model text encoder: hashed word n-grams, TF-IDF weighting, random projection.

Words (lower-cased ``\\w+`` runs) and word bigrams are hashed into ``n_buckets``
buckets with the same id hash datadiet uses everywhere (vectorised, no Python
loop per token). Counts become ``1 + log(tf)`` times an IDF, rows are L2-normalised, projected
to ``dim`` dimensions and normalised again.

:meth:`HashedEncoder.fit` (one pass over the corpus; ``embed_source`` calls it)
learns the IDF and a truncated SVD (latent semantic analysis, by a randomized
range finder on up to ``max_fit_rows`` rows) used as the projection. An unfitted
encoder uses plain TF and a fixed random +-1 projection (Johnson-Lindenstrauss),
which is noisier: cosines between short texts are small and the projection
noise is of order ``1 / sqrt(dim)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datadiet._core._errors import DataError, DataTypeError
from datadiet._core._hashing import hash_ids, splitmix64

__all__ = ["HashedEncoder"]

_BIGRAM = np.uint64(0x9E3779B97F4A7C15)


def _as_text(texts: Any) -> pa.Array:
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if not isinstance(texts, pa.Array):
        texts = pa.array(list(texts), pa.large_string())
    if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
        raise DataTypeError(f"texts must be strings, found {texts.type}")
    return texts.fill_null("")


class HashedEncoder:
    """Hashed n-gram TF-IDF vectors, randomly projected to ``dim`` dimensions.

    Parameters
    ----------
    dim : int, default 256
    n_buckets : int, default 2**15
    bigrams : bool, default True

    Examples
    --------
    >>> enc = HashedEncoder(dim=32)
    >>> v = enc.encode(["the cat sat", "the cat sat down", "stock markets fell"])
    >>> v.shape, bool(v[0] @ v[1] > v[0] @ v[2])
    ((3, 32), True)
    """

    def __init__(self, dim: int = 256, n_buckets: int = 2**15, bigrams: bool = True,
                 max_fit_rows: int = 20000) -> None:
        if not isinstance(dim, int) or dim < 2:
            raise DataError(f"dim must be an integer >= 2; got {dim!r}")
        self.dim = dim
        self.n_buckets = n_buckets
        self.bigrams = bigrams
        self.max_fit_rows = max_fit_rows
        self.idf: np.ndarray | None = None
        self._proj: np.ndarray | None = None

    @property
    def name(self) -> str:
        return f"hashed-d{self.dim}-b{self.n_buckets}{'-bi' if self.bigrams else ''}"

    # --- features --------------------------------------------------------
    def _features(self, texts: Any) -> Any:
        from scipy import sparse

        arr = _as_text(texts)
        n = len(arr)
        words = pc.split_pattern_regex(pc.utf8_lower(arr), r"[^\w]+")
        flat = pc.list_flatten(words)
        doc = pc.list_parent_indices(words).to_numpy(zero_copy_only=False)
        keep = pc.greater(pc.utf8_length(flat), 0).to_numpy(zero_copy_only=False)
        flat = flat.filter(pa.array(keep))
        doc = doc[keep]
        h = hash_ids(flat, 0) if len(flat) else np.zeros(0, np.uint64)
        if self.bigrams and len(h) > 1:
            same = doc[1:] == doc[:-1]
            hb = splitmix64((h[:-1] * _BIGRAM) ^ h[1:])[same]
            h = np.concatenate([h, hb])
            doc = np.concatenate([doc, doc[1:][same]])
        buckets = (h % np.uint64(self.n_buckets)).astype(np.int64)
        m = sparse.csr_matrix((np.ones(len(buckets), np.float32), (doc, buckets)),
                              shape=(n, self.n_buckets))
        m.sum_duplicates()
        m.data = 1.0 + np.log(m.data)
        return m

    def fit(self, batches: Iterable[Any]) -> HashedEncoder:
        """Learn the IDF and an SVD projection from an iterable of text batches (one pass)."""
        from scipy import sparse

        df = np.zeros(self.n_buckets, np.float64)
        n = 0
        kept: list[Any] = []
        for texts in batches:
            m = self._features(texts)
            df += np.bincount(m.indices, minlength=self.n_buckets)
            room = self.max_fit_rows - sum(k.shape[0] for k in kept)
            if room > 0:
                kept.append(m[:room])
            n += m.shape[0]
        self.idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
        if kept:
            sample = self._weighted(sparse.vstack(kept).tocsr())
            self._proj = _svd_basis(sample, self.dim)
        return self

    def _weighted(self, m: Any) -> Any:
        if self.idf is not None:
            m = m.multiply(self.idf[None, :]).tocsr()
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        from scipy import sparse

        return sparse.diags(1.0 / np.where(norms > 0, norms, 1.0)).astype(np.float32) @ m

    def _projection(self) -> np.ndarray:
        if self._proj is None:
            rng = np.random.default_rng(0xD1E7)  # Rademacher (+-1) projection: JL like a Gaussian, cheaper
            signs = rng.integers(0, 2, size=(self.n_buckets, self.dim), dtype=np.int8)
            self._proj = (signs.astype(np.float32) * 2.0 - 1.0) / np.float32(np.sqrt(self.dim))
        return self._proj

    def encode(self, texts: Any) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (empty text gives a zero row)."""
        m = self._weighted(self._features(texts))
        out = np.asarray(m @ self._projection(), dtype=np.float32)
        n2 = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, n2, out=out, where=n2 > 0)
        return out


def _svd_basis(m: Any, dim: int, oversample: int = 10, power_iters: int = 1) -> np.ndarray:
    """Top right singular vectors of sparse ``m`` as an (n_features, dim) float32 projection.

    Randomized range finder (Halko et al.) with power iterations; the small
    (r, r) Gram matrix is diagonalised instead of the wide one. Columns past the
    rank of ``m`` are zero.
    """
    n_rows, n_feat = m.shape
    r = min(dim + oversample, n_rows, n_feat)
    rng = np.random.default_rng(0x5BD)
    q, _ = np.linalg.qr(np.asarray(m @ rng.standard_normal((n_feat, r)).astype(np.float32)))
    for _ in range(power_iters):
        q, _ = np.linalg.qr(np.asarray(m @ np.asarray(m.T @ q)))
    b = np.asarray(m.T @ q).T.astype(np.float64)  # (r, n_feat): m ~ q @ b
    evals, u = np.linalg.eigh(b @ b.T)
    order = np.argsort(evals)[::-1]
    sv = np.sqrt(np.maximum(evals[order], 0.0))
    keep = sv > sv[0] * 1e-6 if len(sv) and sv[0] > 0 else np.zeros(len(sv), bool)
    vt = (u[:, order][:, keep].T @ b) / sv[keep][:, None]
    k = min(dim, vt.shape[0])
    out = np.zeros((n_feat, dim), dtype=np.float32)
    out[:, :k] = vt[:k].T
    return out
