"""DSIR: data selection with importance resampling (Xie et al., 2023) on hashed n-grams.

Two bag-of-hashed-n-gram models are fitted, one on the target data and one on
the raw pool, each with additive smoothing::

    p(b) = (count(b) + smoothing) / (total + smoothing * buckets)

The log importance weight of a pool example with n-gram buckets ``b_1..b_m`` is
``sum_i log p_target(b_i) - log p_raw(b_i)``. The selection is sampling without
replacement with ``P ∝ exp(log weight)`` (Gumbel-top-k keyed by ``(seed, id)``),
or the deterministic top-k; ``mode="weights"`` returns normalised, clipped
importance weights for every row instead of a subset.

The work is three passes over hashed n-grams (fit counts, compute weights,
measure the selection), each streaming one batch at a time; see
:func:`datadiet.engine.dsir_select` for files, where the n-grams are cached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from datadiet._core._budget import Budget
from datadiet._core._errors import DataError, DataTypeError
from datadiet._core._hashing import hash_ids, uniform_keys
from datadiet.metrics._kl import kl_divergence
from datadiet.select._base import BaseSelector, Picked, Target, check_choice, check_number
from datadiet.select._importance import (
    derived_seed,
    importance_weights,
    mixture_log_weights,
    pick_by_importance,
    resolve_proportions,
)
from datadiet.signals._ngrams import DEFAULT_BUCKETS, NgramBatch, iter_ngrams
from datadiet.signals._table import Signals
from datadiet.signals._tokens import BYTES_PER_TOKEN

__all__ = ["DSIRSelector", "DSIRResult", "run_dsir", "target_counts", "log_ratios", "check_dsir_params"]

Stream = Callable[[], Iterator[tuple[pa.Array, NgramBatch]]]
MODES = ("resample", "weights")
SAMPLINGS = ("gumbel", "topk")


def check_dsir_params(*, mode: str, sampling: str, buckets: Any, smoothing: Any, clip: Any, n_jobs: Any) -> None:
    """Validate the DSIR parameters shared by the selector and the streaming function."""
    check_choice("mode", mode, MODES)
    check_choice("sampling", sampling, SAMPLINGS)
    check_number("buckets", buckets, low=1, high=2**32, integer=True)
    check_number("smoothing", smoothing, low=0, low_open=True)
    check_number("clip", clip, low=1, low_open=True, allow_none=True)
    check_number("n_jobs", n_jobs, low=1, integer=True)


def _target_items(target: Any) -> list[tuple[str, Any]]:
    if target is None:
        raise DataError("DSIR needs a target: a dataset (path or table) or a list of texts of what you want more of")
    if isinstance(target, Mapping):
        if not target:
            raise DataError("the target mapping is empty; give at least one target")
        return [(str(k), v) for k, v in target.items()]
    return [("target", target)]


def _is_texts(t: Any) -> bool:
    if isinstance(t, np.ndarray):
        return t.dtype.kind in "UO"
    return isinstance(t, (list, tuple)) and all(x is None or isinstance(x, str) for x in t)


def target_counts(target: Any, text: str = "text", *, buckets: int = DEFAULT_BUCKETS, n_jobs: int = 1,
                  cache: Any = False) -> tuple[list[str], np.ndarray, list[int]]:
    """Hashed n-gram counts of each target: names, counts ``(n_targets, buckets)``, n-grams per target.

    ``target`` is a dataset (anything :func:`~datadiet.io.open_source` reads;
    its ``text`` column is used), a sequence of texts, or a mapping name -> either.
    """
    from datadiet.io._read import open_source

    names, rows, sizes = [], [], []
    for name, t in _target_items(target):
        what = "the target" if name == "target" else f"target {name!r}"
        if _is_texts(t):
            col = "text"
            src = open_source(pa.table({col: pa.array(list(t), pa.large_string())}), name=what)
        elif isinstance(t, str) and not any(ch in t for ch in "/\\.*?[") and len(t.split()) > 1:
            raise DataTypeError(f"{what} looks like a text, not a dataset path; pass a list of texts")
        else:
            col = text
            src = open_source(t, name=what, role="target")
            src.check_columns([text])
        counts = np.zeros(buckets, np.int64)
        n_rows = n_text = 0
        for _ids, nb in iter_ngrams(src, col, buckets=buckets, cache=cache, n_jobs=n_jobs, what=what):
            counts += nb.counts(buckets)
            n_rows += len(nb)
            n_text += int((nb.n_tokens > 0).sum())
        if n_rows == 0:
            raise DataError(f"{what} has no rows: give examples of what you want more of")
        if n_text == 0:
            raise DataError(f"{what} has no text in column {col!r}: all {n_rows} rows are empty; "
                             "name the text column with --target-text (target_text=)")
        names.append(name)
        rows.append(counts)
        sizes.append(int(counts.sum()))
    return names, np.stack(rows), sizes


def log_ratios(raw_counts: np.ndarray, tgt_counts: np.ndarray, names: Sequence[str],
               smoothing: float) -> np.ndarray:
    """``log p_target(b) - log p_raw(b)`` per bucket and target, shape ``(buckets, n_targets)``."""
    b = raw_counts.size
    raw = np.log(raw_counts + smoothing) - np.log(raw_counts.sum() + smoothing * b)
    out = np.empty((b, len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        t = tgt_counts[j]
        if not ((t > 0) & (raw_counts > 0)).any():
            what = "the target" if name == "target" else f"target {name!r}"
            raise DataError(f"{what} shares no n-gram features with the pool (none of its "
                             f"{int((t > 0).sum())} hashed n-gram buckets occurs in the pool): "
                             "check the --text / --target-text columns and the language of both")
        out[:, j] = np.log(t + smoothing) - np.log(t.sum() + smoothing * b) - raw
    return out


@dataclass
class DSIRResult:
    """Outcome of :func:`run_dsir`, aligned with the pool rows."""

    ids: pa.Array
    indices: np.ndarray
    weights: np.ndarray | None
    eligible: np.ndarray
    log_weight: np.ndarray
    metrics: dict[str, Any] = field(default_factory=dict)


def _resolve_budget(budget: Any, n: int, n_ok: int, tokens: np.ndarray | None, allow_all: bool) -> Target:
    if budget is None:
        raise DataError("DSIR resampling needs a budget (e.g. 1000, 10% or 5M-tokens); "
                         "or use mode='weights' (--mode weights) to weight every row")
    b = Budget.parse(budget)
    if b.is_tokens:
        assert tokens is not None
        total = float(tokens.sum())
        if b.value > total:
            if not allow_all:
                raise DataError(f"budget {b} is more than the {int(total)} tokens of the pool's non-empty texts; "
                                 "lower it, or pass --allow-all (allow_all=True) to keep everything")
            return Target(tokens=total)
        return Target(tokens=b.value)
    k = b.resolve(n)
    if k > n_ok:
        if not allow_all:
            extra = f" ({n - n_ok} have empty text)" if n_ok < n else ""
            raise DataError(f"budget {b} asks for {k} examples but the pool has only {n_ok} to choose from{extra}; "
                             "lower it, or pass --allow-all (allow_all=True) to keep everything")
        k = n_ok
    if k == 0:
        raise DataError(f"budget {b} of {n} examples rounds to 0; ask for at least one example")
    return Target(examples=k)


def run_dsir(stream: Stream, target: Any, *, target_text: str = "text", budget: Any = None,
             mode: str = "resample", sampling: str = "gumbel", buckets: int = DEFAULT_BUCKETS,
             proportions: Any = None, smoothing: float = 1.0, clip: float | None = 20.0, seed: int = 0,
             allow_all: bool = False, tokens: np.ndarray | None = None, n_jobs: int = 1) -> DSIRResult:
    """DSIR over a re-iterable stream of ``(ids, NgramBatch)`` (three passes, bounded memory)."""
    names, tgt, sizes = target_counts(target, target_text, buckets=buckets, n_jobs=n_jobs)
    shares = resolve_proportions(names, proportions, sizes)
    # pass 1: raw counts, ids, which rows have text, byte sizes
    raw = np.zeros(buckets, np.int64)
    id_parts, ok_parts, byte_parts = [], [], []
    for ids, nb in stream():
        raw += nb.counts(buckets)
        id_parts.append(ids)
        ok_parts.append(nb.n_tokens > 0)
        byte_parts.append(nb.n_bytes)
    if not id_parts or sum(len(i) for i in id_parts) == 0:
        raise DataError("the pool has no examples: nothing to select from")
    all_ids = pa.concat_arrays([i.cast(id_parts[0].type) for i in id_parts])
    del id_parts
    ok = np.concatenate(ok_parts)
    n, n_ok = len(ok), int(ok.sum())
    if n_ok == 0:
        raise DataError(f"every one of the {n} texts of the pool is empty; check the --text column")
    if tokens is None:
        nbytes = np.concatenate(byte_parts)
        tokens = (nbytes + BYTES_PER_TOKEN - 1) // BYTES_PER_TOKEN
    tokens = np.where(ok, tokens, 0)
    lr = log_ratios(raw, tgt, names, smoothing)
    target_ = _resolve_budget(budget, n, n_ok, tokens, allow_all) if mode == "resample" else None
    if mode == "weights" and budget is not None:
        raise DataError("mode 'weights' keeps every row with a weight; drop the budget (--budget)")
    # pass 2: log importance weights
    parts = [np.stack([nb.dot(lr[:, j]) for j in range(len(names))], axis=1) for _, nb in stream()]
    log_w = np.concatenate(parts)
    if not np.isfinite(log_w).all():
        raise DataError("non-finite importance weights; raise smoothing")
    metrics: dict[str, Any] = {"buckets": buckets, "n_empty_text": n - n_ok}
    weights = None
    mix = mixture_log_weights(log_w, shares)
    if mode == "resample":
        assert target_ is not None
        idx = pick_by_importance(log_w, all_ids, target_, shares=shares, seed=seed, sampling=sampling,
                                 tokens=tokens, eligible=ok)
        keys = uniform_keys(all_ids, derived_seed(seed, 1 << 20))
        cand = np.flatnonzero(ok)
        rnd_order = cand[np.lexsort((hash_ids(all_ids, seed ^ 0x5EED)[cand], keys[cand]))]
        rnd = np.zeros(n, bool)
        rnd[rnd_order[: len(idx)]] = True
        sel = np.zeros(n, bool)
        sel[idx] = True
        # pass 3: feature distributions of the selection and of a random subset of the same size
        sel_c, rnd_c = np.zeros(buckets), np.zeros(buckets)
        start = 0
        for _, nb in stream():
            stop = start + len(nb)
            sel_c += nb.counts(buckets, sel[start:stop])
            rnd_c += nb.counts(buckets, rnd[start:stop])
            start = stop
        kl_r = [kl_divergence(tgt[j], rnd_c, smoothing=smoothing) for j in range(len(names))]
        kl_s = [kl_divergence(tgt[j], sel_c, smoothing=smoothing) for j in range(len(names))]
        metrics.update(kl_target_random=float(np.mean(kl_r)), kl_target_selected=float(np.mean(kl_s)))
    else:
        idx = np.flatnonzero(ok)
        w, info = importance_weights(mix, clip, ok)
        weights = w
        metrics.update({f"weights_{k}": v for k, v in info.items()})
        pool_c, w_c = np.zeros(buckets), np.zeros(buckets)
        start = 0
        for _, nb in stream():
            stop = start + len(nb)
            pool_c += nb.counts(buckets, ok[start:stop])
            if len(nb.buckets):
                w_c += np.bincount(nb.buckets, weights=w[start:stop][nb.doc_of], minlength=buckets)
            start = stop
        kl_r = [kl_divergence(tgt[j], pool_c, smoothing=smoothing) for j in range(len(names))]
        kl_s = [kl_divergence(tgt[j], w_c, smoothing=smoothing) for j in range(len(names))]
        metrics.update(kl_target_pool=float(np.mean(kl_r)), kl_target_weighted=float(np.mean(kl_s)))
    metrics["kl_reduction"] = float(np.mean(np.subtract(kl_r, kl_s)))
    if len(names) > 1:
        metrics["kl_reduction_per_target"] = dict(zip(names, np.subtract(kl_r, kl_s).tolist(), strict=True))
        metrics["target_shares"] = dict(zip(names, shares.tolist(), strict=True))
    return DSIRResult(all_ids, idx, weights, ok, mix, metrics)


class DSIRSelector(BaseSelector):
    """Select toward a target distribution by importance resampling on hashed n-grams (DSIR).

    Parameters
    ----------
    target : dataset, sequence of str, or mapping name -> either
        What you want more of: a path / table (its ``target_text`` column) or
        texts. Several targets (a mapping) each get a share of the budget.
    budget : int, float or str, optional
        Examples, fraction or tokens; required unless ``mode="weights"``.
    mode : {"resample", "weights"}, default "resample"
        Keep a subset, or keep every row with a normalised importance weight.
    sampling : {"gumbel", "topk"}, default "gumbel"
        Sampling without replacement ∝ weight (DSIR), or the highest weights.
    buckets : int, default 10,000
        Hash buckets of the n-gram features.
    target_text : str, default "text"
        Text column of target datasets.
    proportions : mapping or sequence, optional
        Budget share per target (default ∝ each target's number of n-grams).
    smoothing : float, default 1.0
        Additive pseudo-count of both n-gram models.
    clip : float or None, default 20.0
        ``mode="weights"``: no weight exceeds ``clip`` times the mean.
    seed : int, numpy Generator or None, default 0
    allow_all : bool, default False
    n_jobs : int, default 1
        Threads featurising the text.

    Attributes
    ----------
    log_weights_ : ndarray
        Log importance weight per input row (toward the mixture of targets).

    Examples
    --------
    >>> pool = ["the striker scored a goal", "shares fell on the stock market",
    ...         "the keeper saved a penalty", "the bank raised interest rates"]
    >>> s = DSIRSelector(target=["a late goal won the match"], budget=2, sampling="topk").fit(text=pool)
    >>> s.selected_indices_.tolist()
    [0, 2]
    """

    method = "dsir"

    def __init__(self, *, target: Any, budget: Any = None, mode: str = "resample", sampling: str = "gumbel",
                 buckets: int = DEFAULT_BUCKETS, target_text: str = "text", proportions: Any = None,
                 smoothing: float = 1.0, clip: float | None = 20.0,
                 seed: int | np.random.Generator | None = 0, allow_all: bool = False, n_jobs: int = 1) -> None:
        self.target = target
        self.budget = budget
        self.mode = mode
        self.sampling = sampling
        self.buckets = buckets
        self.target_text = target_text
        self.proportions = proportions
        self.smoothing = smoothing
        self.clip = clip
        self.seed = seed
        self.allow_all = allow_all
        self.n_jobs = n_jobs

    def _check_params(self) -> None:
        check_dsir_params(mode=self.mode, sampling=self.sampling, buckets=self.buckets,
                          smoothing=self.smoothing, clip=self.clip, n_jobs=self.n_jobs)
        if self.mode == "weights" and self.budget is not None:
            raise DataError("mode 'weights' keeps every row with a weight; drop the budget")
        if self.mode == "resample" and self.budget is None:
            raise DataError("DSIR resampling needs a budget (e.g. 1000, 10% or 5M-tokens); "
                             "or use mode='weights' to weight every row")

    def fit(self, signals: Signals | None = None, /, **arrays: Any) -> DSIRSelector:
        super().fit(signals, **arrays)
        self.selection_.params["target"] = _describe_target(self.target)
        return self

    def _target(self, sig: Signals) -> Target:
        return Target()  # the budget is resolved against the rows that have text, in _select

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        from datadiet.signals._ngrams import hashed_ngrams, text_array

        if sig.text is None:
            raise DataError("DSIRSelector needs text: name a column with --text (or pass text=)")
        txt = text_array(sig.text, "the text")
        nb = hashed_ngrams(txt, int(self.buckets))

        def stream() -> Iterator[tuple[pa.Array, NgramBatch]]:
            yield sig.ids, nb

        res = run_dsir(stream, self.target, target_text=self.target_text, budget=self.budget, mode=self.mode,
                       sampling=self.sampling, buckets=int(self.buckets), proportions=self.proportions,
                       smoothing=self.smoothing, clip=self.clip, seed=seed, allow_all=self.allow_all,
                       tokens=sig.tokens, n_jobs=self.n_jobs)
        self.log_weights_ = res.log_weight
        return _picked(res)


def _picked(res: DSIRResult) -> Picked:
    n = len(res.eligible)
    reason = np.where(res.eligible, 1, 0).astype(np.int8)
    return Picked(res.indices, weights=None if res.weights is None else res.weights[res.indices],
                  drop_reason=reason[:n], reason_names=["empty_text", "not_sampled"],
                  extra={"log_weight": res.log_weight}, metrics=res.metrics)


def _describe_target(target: Any) -> Any:
    if isinstance(target, Mapping):
        return {str(k): _describe_target(v) for k, v in target.items()}
    if _is_texts(target):
        return f"<{len(target)} texts>"
    if isinstance(target, (str, int, float)) or target is None:
        return target
    return f"<{type(target).__name__}>"
