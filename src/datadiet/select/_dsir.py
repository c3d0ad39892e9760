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

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from datadiet._core import REQUIRED, Param, derived_seed, register, tiebreak_keys
from datadiet._core._budget import Budget
from datadiet._core._errors import DataError, DataTypeError
from datadiet._core._hashing import uniform_keys
from datadiet.metrics._kl import kl_divergence
from datadiet.select._base import BaseSelector, Picked, Target
from datadiet.select._importance import (
    IMPORTANCE_PARAMS,
    check_mode_budget,
    importance_weights,
    mixture_log_weights,
    pick_by_importance,
    resolve_proportions,
)
from datadiet.signals._ngrams import DEFAULT_BUCKETS, NgramBatch
from datadiet.signals._table import Signals
from datadiet.signals._tokens import BYTES_PER_TOKEN

__all__ = ["DSIRSelector", "DSIRResult", "TargetCounts", "run_dsir", "counts_of_texts", "count_target", "log_ratios", "kl_metrics"]

Stream = Callable[[], Iterator[tuple[pa.Array, NgramBatch]]]
MODES = ("resample", "weights")
SAMPLINGS = ("gumbel", "topk")




@dataclass(frozen=True)
class TargetCounts:
    """Hashed n-gram counts of each target: ``counts`` has shape ``(n_targets, buckets)``."""

    names: list[str]
    counts: np.ndarray
    sizes: list[int]


def count_target(name: str, batches: Iterable[NgramBatch], buckets: int, column: str = "text") -> np.ndarray:
    """Sum the hashed n-gram counts of one target's batches, refusing a target with no text."""
    what = "the target" if name == "target" else f"target {name!r}"
    counts = np.zeros(buckets, np.int64)
    n_rows = n_text = 0
    for nb in batches:
        counts += nb.counts(buckets)
        n_rows += len(nb)
        n_text += int((nb.n_tokens > 0).sum())
    if n_rows == 0:
        raise DataError(f"{what} has no rows: give examples of what you want more of")
    if n_text == 0:
        raise DataError(f"{what} has no text in column {column!r}: all {n_rows} rows are empty; "
                        "name the text column of the target (target_text, --target-text)")
    return counts


def target_items(target: Any) -> list[tuple[str, Any]]:
    """``(name, target)`` pairs of one target or a mapping of several."""
    if target is None:
        raise DataError("DSIR needs a target: texts (or a dataset) of what you want more of")
    if isinstance(target, Mapping):
        if not target:
            raise DataError("the target mapping is empty; give at least one target")
        return [(str(k), v) for k, v in target.items()]
    return [("target", target)]


def is_texts(t: Any) -> bool:
    """Whether ``t`` is a sequence of texts (rather than a dataset)."""
    if isinstance(t, np.ndarray):
        return t.dtype.kind in "UO"
    return isinstance(t, (list, tuple)) and all(x is None or isinstance(x, str) for x in t)


def counts_of_texts(target: Any, buckets: int) -> TargetCounts:
    """:class:`TargetCounts` of texts (or a mapping name -> texts) held in memory.

    Datasets on disk are featurised by :func:`datadiet.engine.dsir_select`, which streams them.
    """
    from datadiet.signals._ngrams import hashed_ngrams, text_array

    names, rows = [], []
    for name, t in target_items(target):
        if not is_texts(t):
            raise DataTypeError(f"DSIRSelector takes the target as texts (or TargetCounts), got {type(t).__name__}; "
                                "for a dataset on disk use datadiet.engine.dsir_select, which streams it")
        txt = text_array(pa.array(list(t), pa.large_string()), "the target")
        rows.append(count_target(name, [hashed_ngrams(txt, buckets)], buckets))
        names.append(name)
    return TargetCounts(names, np.stack(rows), [int(r.sum()) for r in rows])


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


def kl_metrics(tgt: np.ndarray, reference: np.ndarray, chosen: np.ndarray, names: Sequence[str],
               shares: np.ndarray, smoothing: float, mode: str) -> dict[str, Any]:
    """KL of each target to a reference and to the selection's n-gram counts, and their reduction.

    ``reference`` is a random subset of the selection's size (``mode="resample"``) or the
    whole pool (``mode="weights"``); ``chosen`` the selected (or weighted) counts.
    """
    kl_r = [kl_divergence(tgt[j], reference, smoothing=smoothing) for j in range(len(names))]
    kl_s = [kl_divergence(tgt[j], chosen, smoothing=smoothing) for j in range(len(names))]
    ref, got = ("random", "selected") if mode == "resample" else ("pool", "weighted")
    out: dict[str, Any] = {f"kl_target_{ref}": float(np.mean(kl_r)), f"kl_target_{got}": float(np.mean(kl_s)),
                           "kl_reduction": float(np.mean(np.subtract(kl_r, kl_s)))}
    if len(names) > 1:
        out["kl_reduction_per_target"] = dict(zip(names, np.subtract(kl_r, kl_s).tolist(), strict=True))
        out["target_shares"] = dict(zip(names, shares.tolist(), strict=True))
    return out


def run_dsir(stream: Stream, targets: TargetCounts, *, budget: Any = None, mode: str = "resample",
             sampling: str = "gumbel", buckets: int = DEFAULT_BUCKETS, proportions: Any = None,
             smoothing: float = 1.0, clip: float | None = 20.0, seed: int = 0, allow_all: bool = False,
             tokens: np.ndarray | None = None) -> DSIRResult:
    """DSIR over a re-iterable stream of the pool's ``(ids, NgramBatch)`` toward featurised targets.

    Three passes, each holding one batch: fit the raw counts, weigh every row, measure the
    selection. The pool and the targets arrive featurised; nothing here reads a file.
    """
    names, tgt, sizes = targets.names, targets.counts, targets.sizes
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
        keys = uniform_keys(all_ids, derived_seed(seed, "dsir-random-fill"))
        cand = np.flatnonzero(ok)
        rnd_order = cand[np.lexsort((tiebreak_keys(all_ids, seed)[cand], keys[cand]))]
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
        metrics.update(kl_metrics(tgt, rnd_c, sel_c, names, shares, smoothing, mode))
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
        metrics.update(kl_metrics(tgt, pool_c, w_c, names, shares, smoothing, mode))
    return DSIRResult(all_ids, idx, weights, ok, mix, metrics)


@register("select")
class DSIRSelector(BaseSelector):
    """Select toward a target distribution by importance resampling on hashed n-grams (DSIR).

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
    requires = ("text",)
    engines = ("local", "ray")

    params = (
        Param("target", "any", REQUIRED, "what you want more of: texts, a mapping name -> texts, or TargetCounts "
              "(datasets on disk: datadiet.engine.dsir_select)", cli=False),
        *IMPORTANCE_PARAMS,
        Param("buckets", "int", DEFAULT_BUCKETS, "hash buckets of the n-gram features", low=1, high=2**32),
        Param("target_text", "str", "text", "text column of the target datasets: one for all, or one per "
              "target ('COL1,COL2', in target order; in Python also a list or a mapping name -> column)",
              also=(list, tuple, dict), metavar="COL[,COL...]"),
        Param("proportions", "any", None, "budget share per target (default ∝ its number of n-grams)", cli=False),
        Param("smoothing", "float", 1.0, "additive pseudo-count of both n-gram models", low=0, low_open=True),
        Param("n_jobs", "int", 1, "threads featurising the text", low=1, aliases=("--jobs",)),
    )

    def _check_params(self) -> None:
        check_mode_budget(type(self).__name__, self.mode, self.budget)

    def manifest_params(self) -> dict[str, Any]:
        return {**super().manifest_params(), "target": _describe_target(self.target)}

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

        targets = self.target if isinstance(self.target, TargetCounts) else \
            counts_of_texts(self.target, int(self.buckets))
        res = run_dsir(stream, targets, budget=self.budget, mode=self.mode, sampling=self.sampling,
                       buckets=int(self.buckets), proportions=self.proportions, smoothing=self.smoothing,
                       clip=self.clip, seed=seed, allow_all=self.allow_all, tokens=sig.tokens)
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
    if is_texts(target):
        return f"<{len(target)} texts>"
    if isinstance(target, (str, int, float)) or target is None:
        return target
    return f"<{type(target).__name__}>"
