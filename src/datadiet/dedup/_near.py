"""Near duplicates: MinHash signatures, LSH banding, optional true-Jaccard verification."""

from __future__ import annotations

from typing import Any

import numpy as np

from datadiet._core import Param, register
from datadiet._core._errors import DataError
from datadiet.dedup._base import KEEP_PARAMS, BaseDedup, Combined
from datadiet.dedup._lsh import LSHParams, band_buckets, band_links, choose_bands
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
        self.lsh: LSHParams = owner.banding()
        self.sig: np.ndarray | None = None
        self.count: np.ndarray | None = None
        self.buckets: np.ndarray | None = None  # shared bucket of every (band, row), set by the first round
        self.last_active: np.ndarray | None = None
        self.metrics: dict[str, Any] = {"lsh_bands": self.lsh.bands, "lsh_rows": self.lsh.rows,
                                        "candidate_pairs": 0, "verified_pairs": 0}

    def _signatures(self, comb: Combined) -> tuple[np.ndarray, np.ndarray]:
        if self.sig is None:
            pre = comb.sig.minhash if comb.n == comb.n_train else None
            if pre is not None and pre.params == self.params and len(pre.signatures) == comb.n:
                self.sig, self.count = pre.signatures, pre.counts
            else:
                if comb.sig.text is None:
                    raise DataError("near-duplicate search needs the text (or cached MinHash signatures)")
                self.sig, self.count = minhash_signatures(comb.sig.text, **self.params)
        assert self.count is not None
        return self.sig, self.count

    def links(self, comb: Combined, active: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sig, count = self._signatures(comb)
        rows = np.flatnonzero(active & (count > 0))
        if self.buckets is None or self.last_active is None:
            # first round: hash every band once; later rounds look only at the buckets that lost a row
            self.buckets = band_buckets(sig, rows, self.lsh.bands, self.lsh.rows)
            a, b = band_links(self.buckets, rows, rank)
        else:
            changed = np.flatnonzero(self.last_active & ~active & (count > 0))
            a, b = band_links(self.buckets, rows, rank, changed=changed)
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


@register("dedup")
class NearDedup(BaseDedup):
    """Drop near-duplicate texts: MinHash + LSH, clusters by connected components.

    Examples
    --------
    >>> docs = ["the quick brown fox jumps over the lazy dog today",
    ...         "the quick brown fox jumps over the lazy dog today!", "a different sentence entirely here"]
    >>> NearDedup(threshold=0.8).fit(text=docs).selection_.counts()
    {'kept': 2, 'duplicate': 1}
    """

    method = "near"
    engines = ("local", "ray")  # per-row passes (reading, signatures, embedding) are engine steps
    requires = ("text",)

    params = (
        Param("threshold", "float", 0.8, "Jaccard similarity of shingle sets above which texts are duplicates",
              low=0, high=1, low_open=True),
        Param("num_perm", "int", 128, "MinHash permutations", low=1),
        Param("shingle", "choice", "word", "shingles of words or of characters", choices=("word", "char")),
        Param("ngram", "int", 5, "words (or characters) per shingle", low=1),
        Param("normalize", "any", "default", "normalisation before comparing: comma list of lower, space, punct, "
              "nfkc, 'default' or 'none'"),
        Param("bands", "int", None, "LSH bands (default: chosen from threshold and num_perm)", low=1, none=True),
        Param("rows", "int", None, "LSH rows per band (default: chosen with bands)", low=1, none=True),
        Param("fp_weight", "float", 0.5, "weight of false positives when choosing the banding", low=0),
        Param("fn_weight", "float", 0.5, "weight of false negatives when choosing the banding", low=0),
        Param("verify", "choice", "jaccard", "check LSH candidates by true Jaccard, by the MinHash estimate, or not",
              choices=VERIFY),
        *KEEP_PARAMS,
    )

    def _check_params(self) -> None:
        Normalization.parse(self.normalize)
        minhash_params(num_perm=self.num_perm, shingle=self.shingle, ngram=self.ngram, normalize=self.normalize)
        self.banding()

    def banding(self) -> LSHParams:
        """The LSH banding these parameters give (``bands`` x ``rows``, with its trade-off)."""
        return choose_bands(self.threshold, self.num_perm, fp_weight=self.fp_weight, fn_weight=self.fn_weight,
                            bands=self.bands, rows=self.rows)

    def _requires(self) -> tuple[str, ...]:
        return ("text",)

    def _stages(self, seed: int) -> list[Any]:
        stage = NearStage(self)
        self.lsh_ = stage.lsh
        self._stage = stage
        return [stage]

    def fit(self, signals: Any = None, /, *, against: Any = None, **arrays: Any) -> NearDedup:
        super().fit(signals, against=against, **arrays)
        self.signatures_ = self._stage.sig
        return self
