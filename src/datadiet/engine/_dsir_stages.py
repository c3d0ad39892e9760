"""DSIR as explicit map -> reduce stages, so any engine (local or Ray) runs its passes.

1. map: per block, featurise (hashed n-grams) and count -> ids, non-empty flags, byte
   sizes and one count vector per block; reduce: sum the counts (the raw model).
2. map: per block, log importance weights against the broadcast log-ratio table, and
   the block's Gumbel top-k candidates per target; reduce: merge the candidates and
   take the global top-k (the same rows as a top-k over every row).
3. map: per block, n-gram counts of the selected rows and of a random subset of the
   same size (or of the weighted pool); reduce: sum -> KL reduction.

Each map featurises its block again instead of shipping n-grams between stages: the
driver holds a few numbers per row (id, flag, bytes, weight), a block holds its texts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from datadiet._core import derived_seed, tiebreak_keys
from datadiet._core._errors import DataError
from datadiet._core._hashing import uniform_keys
from datadiet.engine._blocks import BlockOffsets, block_row, concatenated, stacked
from datadiet.engine._step import Step
from datadiet.io._ids import batch_ids
from datadiet.io._read import Batch
from datadiet.select._dsir import DSIRResult, TargetCounts, _resolve_budget, kl_metrics, log_ratios
from datadiet.select._importance import (
    importance_weights,
    mixture_log_weights,
    pick_by_importance,
    resolve_proportions,
)
from datadiet.signals._ngrams import NgramBatch, hashed_ngrams, text_array
from datadiet.signals._tokens import BYTES_PER_TOKEN

__all__ = ["NgramCountStep", "DSIRWeightStep", "SubsetCountStep", "run_dsir_stages", "gumbel_candidates"]


class _NgramStep(Step):
    def __init__(self, text: str, id_column: str | None, buckets: int, what: str = "") -> None:
        self.text, self.id_column, self.buckets, self.what = text, id_column, int(buckets), what
        self.columns = [c for c in (text, id_column) if c]

    def featurize(self, batch: Batch) -> NgramBatch:
        arr = text_array(batch.table.column(self.text), f"text column {self.text!r} of {self.what}".strip())
        return hashed_ngrams(arr, self.buckets)


class NgramCountStep(_NgramStep):
    """Map of pass 1: one row per block with its ids, non-empty flags, byte sizes and n-gram counts."""

    def process_batch(self, batch: Batch) -> pa.Table:
        nb = self.featurize(batch)
        ids = batch_ids(batch.table, self.id_column, batch.file, batch.row_start)
        return block_row(ids=ids, ok=nb.n_tokens > 0, n_bytes=nb.n_bytes, counts=nb.counts(self.buckets),
                         file=batch.file, row_start=batch.row_start, n=len(nb))


def gumbel_candidates(log_w: np.ndarray, ids: Any, ok: np.ndarray, seed: int, sampling: str, k: int) -> np.ndarray:
    """Rows of a block that can be among the global (Gumbel-)top-``k`` of any target.

    Per target, the ``k`` best eligible rows by key (``log w + G(seed, id)``, ties by
    the id's tiebreak key, as :func:`~datadiet.select._importance.pick_by_importance`
    orders them). With several targets each picks among rows the earlier ones left,
    which removes at most ``k`` rows, so ``k`` per target is enough. Keys depend on the
    id only, so the union over blocks holds the global top-k whatever the blocks.
    """
    cand = np.flatnonzero(ok)
    if cand.size <= k:
        return cand
    tie = tiebreak_keys(ids, seed)[cand]
    keep = []
    for j in range(log_w.shape[1]):
        key = log_w[cand, j].copy()
        if sampling == "gumbel":
            key += -np.log(-np.log(uniform_keys(ids, derived_seed(seed, j))[cand]))
        keep.append(cand[np.lexsort((tie, -key))[:k]])
    return np.unique(np.concatenate(keep))


class DSIRWeightStep(_NgramStep):
    """Map of pass 2: per block, the log weights of every row and the block's top-k candidates."""

    def __init__(self, text: str, id_column: str | None, buckets: int, ratios: np.ndarray, seed: int,
                 sampling: str, k: int | None) -> None:
        super().__init__(text, id_column, buckets)
        self.ratios, self.seed, self.sampling, self.k = ratios, seed, sampling, k

    def process_batch(self, batch: Batch) -> pa.Table:
        nb = self.featurize(batch)
        log_w = np.stack([nb.dot(self.ratios[:, j]) for j in range(self.ratios.shape[1])], axis=1)
        if self.k is None:
            cand = np.zeros(0, np.int64)
        else:
            ids = batch_ids(batch.table, self.id_column, batch.file, batch.row_start)
            cand = gumbel_candidates(log_w, ids, nb.n_tokens > 0, self.seed, self.sampling, self.k).astype(np.int64)
        return block_row(log_w=log_w, cand=cand, n=len(nb))


class SubsetCountStep(_NgramStep):
    """Map of pass 3: per block, n-gram counts of rows under two broadcast per-row weights."""

    def __init__(self, text: str, buckets: int, offsets: BlockOffsets, first: np.ndarray,
                 second: np.ndarray) -> None:
        super().__init__(text, None, buckets)
        self.offsets, self.first, self.second = offsets, first, second

    def process_batch(self, batch: Batch) -> pa.Table:
        nb = self.featurize(batch)
        lo = self.offsets.of(batch)
        out: dict[str, np.ndarray] = {}
        for name, w in (("first", self.first), ("second", self.second)):
            part = w[lo: lo + len(nb)]
            c: np.ndarray
            if part.dtype == bool:
                c = nb.counts(self.buckets, part).astype(np.float64)
            elif len(nb.buckets):
                c = np.bincount(nb.buckets, weights=part[nb.doc_of], minlength=self.buckets)
            else:
                c = np.zeros(self.buckets)
            out[name] = c
        return block_row(**out)


def run_dsir_stages(engine: Any, source: Any, text: str, id_column: str | None, targets: TargetCounts, *,
                    budget: Any, mode: str, sampling: str, buckets: int, proportions: Any, smoothing: float,
                    clip: float | None, seed: int, allow_all: bool, tokens: np.ndarray | None,
                    batch_size: int = 65536) -> DSIRResult:
    """DSIR over ``source`` with every pass run by ``engine``; the same result as :func:`run_dsir`."""
    names, tgt, sizes = targets.names, targets.counts, targets.sizes
    shares = resolve_proportions(names, proportions, sizes)
    with engine.session():
        # stage 1: per-block counts -> global raw counts
        b1 = engine.run(source, NgramCountStep(text, id_column, buckets, source.name), batch_size=batch_size,
                        description="dsir: counting n-grams")
        if b1.num_rows == 0:
            raise DataError("the pool has no examples: nothing to select from")
        raw = stacked(b1, "counts", buckets).sum(axis=0)
        all_ids = concatenated(b1, "ids")
        ok = concatenated(b1, "ok").to_numpy(zero_copy_only=False).astype(bool)
        lengths = b1.column("n").to_pylist()
        offsets = BlockOffsets.from_blocks(b1.column("file").to_pylist(), b1.column("row_start").to_pylist(),
                                           lengths)
        n, n_ok = len(ok), int(ok.sum())
        if n == 0:
            raise DataError("the pool has no examples: nothing to select from")
        if n_ok == 0:
            raise DataError(f"every one of the {n} texts of the pool is empty; check the --text column")
        if tokens is None:
            nbytes = concatenated(b1, "n_bytes").to_numpy(zero_copy_only=False)
            tokens = (nbytes + BYTES_PER_TOKEN - 1) // BYTES_PER_TOKEN
        assert tokens is not None
        tokens = np.where(ok, tokens, 0)
        del b1
        lr = log_ratios(raw, tgt, names, smoothing)
        target_ = _resolve_budget(budget, n, n_ok, tokens, allow_all) if mode == "resample" else None
        if mode == "weights" and budget is not None:
            raise DataError("mode 'weights' keeps every row with a weight; drop the budget (--budget)")
        # stage 2: per-block weights and top-k candidates -> merged top-k
        k = target_.examples if target_ is not None and target_.examples is not None else None
        b2 = engine.run(source, DSIRWeightStep(text, id_column, buckets, lr, seed, sampling, k),
                        batch_size=batch_size, description="dsir: weighing")
        log_w = concatenated(b2, "log_w").to_numpy(zero_copy_only=False).reshape(n, len(names))
        if not np.isfinite(log_w).all():
            raise DataError("non-finite importance weights; raise smoothing")
        starts = np.concatenate([[0], np.cumsum(b2.column("n").to_numpy())[:-1]])
        cand_lists = b2.column("cand").combine_chunks()
        cand = np.concatenate([np.asarray(c.values, dtype=np.int64) + s if c.is_valid else np.zeros(0, np.int64)
                               for c, s in zip(cand_lists, starts, strict=True)] or [np.zeros(0, np.int64)])
        del b2
        metrics: dict[str, Any] = {"buckets": buckets, "n_empty_text": n - n_ok}
        weights = None
        mix = mixture_log_weights(log_w, shares)
        if mode == "resample":
            assert target_ is not None
            if k is not None:  # merge: the global top-k lies among the blocks' candidates
                got = pick_by_importance(log_w[cand], all_ids.take(pa.array(cand)), target_, shares=shares,
                                         seed=seed, sampling=sampling, eligible=ok[cand])
                idx = np.sort(cand[got])
            else:  # a token budget: the prefix length is not known per block
                idx = pick_by_importance(log_w, all_ids, target_, shares=shares, seed=seed, sampling=sampling,
                                         tokens=tokens, eligible=ok)
            keys = uniform_keys(all_ids, derived_seed(seed, "dsir-random-fill"))
            pool = np.flatnonzero(ok)
            rnd_order = pool[np.lexsort((tiebreak_keys(all_ids, seed)[pool], keys[pool]))]
            first, second = np.zeros(n, bool), np.zeros(n, bool)
            first[idx] = True
            second[rnd_order[: len(idx)]] = True
        else:
            idx = np.flatnonzero(ok)
            weights, info = importance_weights(mix, clip, ok)
            metrics.update({f"weights_{k_}": v for k_, v in info.items()})
            first, second = ok, weights
        # stage 3: per-block counts of the two subsets -> KL reduction
        b3 = engine.run(source, SubsetCountStep(text, buckets, offsets, first, second), batch_size=batch_size,
                        description="dsir: measuring")
    one, two = stacked(b3, "first", buckets).sum(axis=0), stacked(b3, "second", buckets).sum(axis=0)
    # resample: "first" counts the selection, "second" a random subset; weights: pool, then weighted
    reference, chosen = (two, one) if mode == "resample" else (one, two)
    metrics.update(kl_metrics(tgt, reference, chosen, names, shares, smoothing, mode))
    return DSIRResult(all_ids, idx, weights, ok, mix, metrics)
