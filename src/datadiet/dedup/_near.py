"""Near duplicates: MinHash signatures, LSH banding, optional true-Jaccard verification."""

from __future__ import annotations

from typing import Any

import numpy as np

from datadiet._core._errors import DataError
from datadiet.dedup._base import BaseDedup, Combined
from datadiet.dedup._lsh import LSHParams, band_keys, band_links, choose_bands
from datadiet.dedup._minhash import jaccard_pairs, minhash_params, minhash_signatures
from datadiet.dedup._normalize import Normalization

__all__ = ["NearDedup", "NearStage", "VERIFY"]

VERIFY = ("jaccard", "signature", "none")


class NearStage:
    """LSH candidates among the active rows, verified, linked (repeated until nothing new)."""

    name = "near"
    iterate = True

    def __init__(self, owner: NearDedup) -> None:
        self.o = owner
        self.params = minhash_params(num_perm=owner.num_perm, shingle=owner.shingle, ngram=owner.ngram,
                                     normalize=owner.normalize)
        self.lsh: LSHParams = choose_bands(owner.threshold, owner.num_perm, fp_weight=owner.fp_weight,
                                           fn_weight=owner.fn_weight, bands=owner.bands, rows=owner.rows)
        self.sig: np.ndarray | None = None
        self.count: np.ndarray | None = None
        self.keys: np.ndarray | None = None  # bucket key of every (row, band), set by the first round
        self.last_active: np.ndarray | None = None
        self.metrics: dict[str, Any] = {"lsh_bands": self.lsh.bands, "lsh_rows": self.lsh.rows,
                                        "candidate_pairs": 0, "verified_pairs": 0}

    def _signatures(self, comb: Combined) -> tuple[np.ndarray, np.ndarray]:
        if self.sig is None:
            pre = comb.sig.extra.get("minhash") if comb.n == comb.n_train else None
            if pre is not None and pre.get("params") == self.params and len(pre["signatures"]) == comb.n:
                self.sig, self.count = pre["signatures"], pre["counts"]
            else:
                if comb.sig.text is None:
                    raise DataError("near-duplicate search needs the text (or cached MinHash signatures)")
                self.sig, self.count = minhash_signatures(comb.sig.text, **self.params)
        assert self.count is not None
        return self.sig, self.count

    def links(self, comb: Combined, active: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sig, count = self._signatures(comb)
        rows = np.flatnonzero(active & (count > 0))
        bands, width = self.lsh.bands, self.lsh.rows
        if self.keys is None or self.last_active is None:
            # first round: hash every band once; later rounds look only at the buckets that lost a row
            self.keys = np.zeros((sig.shape[0], bands), dtype=np.uint64)
            self.keys[rows] = band_keys(sig, rows, bands, width)
            a, b = band_links(sig, rows, rank, bands, width, keys=self.keys)
        else:
            changed = np.flatnonzero(self.last_active & ~active & (count > 0))
            a, b = band_links(sig, rows, rank, bands, width, keys=self.keys, changed=changed)
        self.last_active = active.copy()
        self.metrics["candidate_pairs"] += int(a.size)
        verify = self.o.verify
        if a.size and verify != "none":
            same = (sig[a] == sig[b]).all(axis=1)  # identical signatures: identical shingle sets
            check = np.flatnonzero(~same)
            sim = np.ones(a.size)
            if check.size:
                if verify == "jaccard" and comb.sig.text is not None:
                    sim[check] = jaccard_pairs(comb.sig.text, a[check], b[check], shingle=self.o.shingle,
                                               ngram=self.o.ngram, normalize=self.o.normalize)
                else:
                    sim[check] = (sig[a[check]] == sig[b[check]]).mean(axis=1)
            ok = sim >= self.o.threshold
            a, b = a[ok], b[ok]
        self.metrics["verified_pairs"] += int(a.size)
        return a, b


class NearDedup(BaseDedup):
    """Drop near-duplicate texts: MinHash + LSH, clusters by connected components.

    Parameters
    ----------
    threshold : float, default 0.8
        Jaccard similarity of shingle sets above which two texts are duplicates.
    num_perm : int, default 128
        MinHash permutations.
    shingle : {"word", "char"}, default "word"
    ngram : int, default 5
        Words (or characters) per shingle.
    normalize : Normalization or str, default "default"
    bands, rows : int, optional
        LSH banding; chosen from ``threshold`` and ``num_perm`` when not given
        (see :func:`choose_bands`; the trade-off is in ``lsh_.tradeoff()``).
    fp_weight, fn_weight : float, default 0.5
        Weights of false positives and false negatives when choosing the banding.
    verify : {"jaccard", "signature", "none"}, default "jaccard"
        Check each LSH candidate pair by its true Jaccard similarity (recomputed
        from the text), by the MinHash estimate, or not at all.
    keep : {"first", "longest", "score", "random"}, default "first"
    score : str, optional
    seed : int, numpy Generator or None, default 0
        Seeds ``keep="random"`` (signatures use fixed permutations).
    within : bool, default True

    Examples
    --------
    >>> docs = ["the quick brown fox jumps over the lazy dog today",
    ...         "the quick brown fox jumps over the lazy dog today!", "a different sentence entirely here"]
    >>> NearDedup(threshold=0.8).fit(text=docs).selection_.counts()
    {'kept': 2, 'duplicate': 1}
    """

    method = "near"
    requires = ("text",)

    def __init__(self, *, threshold: float = 0.8, num_perm: int = 128, shingle: str = "word", ngram: int = 5,
                 normalize: Any = "default", bands: int | None = None, rows: int | None = None,
                 fp_weight: float = 0.5, fn_weight: float = 0.5, verify: str = "jaccard", keep: str = "first",
                 score: str | None = None, seed: int | np.random.Generator | None = 0,
                 within: bool = True) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self.shingle = shingle
        self.ngram = ngram
        self.normalize = normalize
        self.bands = bands
        self.rows = rows
        self.fp_weight = fp_weight
        self.fn_weight = fn_weight
        self.verify = verify
        self.keep = keep
        self.score = score
        self.seed = seed
        self.within = within

    def _check_params(self) -> None:
        if self.verify not in VERIFY:
            raise DataError(f"verify must be one of {', '.join(map(repr, VERIFY))}; got {self.verify!r}")
        Normalization.parse(self.normalize)
        minhash_params(num_perm=self.num_perm, shingle=self.shingle, ngram=self.ngram, normalize=self.normalize)
        self.lsh_ = choose_bands(self.threshold, self.num_perm, fp_weight=self.fp_weight,
                                 fn_weight=self.fn_weight, bands=self.bands, rows=self.rows)

    def _requires(self) -> tuple[str, ...]:
        return ("text",)

    def _stages(self) -> list[Any]:
        stage = NearStage(self)
        self._stage = stage
        return [stage]

    def fit(self, signals: Any = None, /, *, against: Any = None, **arrays: Any) -> NearDedup:
        super().fit(signals, against=against, **arrays)
        self.signatures_ = self._stage.sig
        return self
