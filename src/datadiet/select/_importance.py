"""Importance resampling and importance weights from log density ratios.

Shared by :class:`~datadiet.select.DSIRSelector` (hashed n-gram ratios) and
:class:`~datadiet.select.DensityRatioSelector` (classifier ratios).

* Resampling: sampling without replacement with ``P ∝ w_i`` is the top-k of
  ``log w_i + G_i`` with ``G_i`` a standard Gumbel (Gumbel-top-k); ``G_i`` comes
  from a uniform hash of ``(seed, id)``, so the result does not depend on row
  order or sharding. ``sampling="topk"`` drops the noise (deterministic top-k).
  With several targets, each gets a share of the budget and picks among rows
  not yet picked.
* Weights: ``w_i / mean(w)``, clipped so no row weighs more than ``clip`` times
  the mean (the threshold is solved exactly, then weights are renormalised to
  mean 1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from datadiet._core import Param, ParamError, derived_seed, tiebreak_keys
from datadiet._core._errors import DataError, DataTypeError
from datadiet._core._hashing import uniform_keys
from datadiet.select._base import Target, take_prefix

__all__ = ["resolve_proportions", "split_largest_remainder", "pick_by_importance", "importance_weights",
           "mixture_log_weights", "IMPORTANCE_PARAMS", "check_mode_budget"]


#: Parameters shared by the importance-weight selectors (DSIR, density ratio).
IMPORTANCE_PARAMS = (
    Param("budget", "budget", None, "examples, fraction or tokens; required unless mode is 'weights'",
          none=True, aliases=("-b",)),
    Param("mode", "choice", "resample", "keep a subset, or keep every row with a normalised importance weight",
          choices=("resample", "weights")),
    Param("sampling", "choice", "gumbel", "sample without replacement ∝ weight, or take the highest weights",
          choices=("gumbel", "topk")),
    Param("clip", "float", 20.0, "mode weights: no weight above CLIP times the mean", low=1, low_open=True,
          none=True),
    Param("seed", "seed", 0, "seed of every random choice (None: fresh entropy, recorded in the manifest)"),
    Param("allow_all", "bool", False, "keep everything when the budget exceeds the input instead of failing"),
)


def check_mode_budget(owner: str, mode: str, budget: Any) -> None:
    """``mode="weights"`` takes no budget; ``mode="resample"`` needs one."""
    if mode == "weights" and budget is not None:
        raise ParamError("budget", "None with mode 'weights' (every row is kept with a weight)", budget, owner)
    if mode == "resample" and budget is None:
        raise ParamError("budget", "given for mode 'resample' (e.g. 1000, 10% or 5M-tokens), or use mode "
                         "'weights'", budget, owner)


def resolve_proportions(names: Sequence[str], proportions: Any, sizes: Sequence[float]) -> np.ndarray:
    """Shares of the budget per target: given (mapping or sequence) or ∝ ``sizes``."""
    k = len(names)
    if proportions is None:
        p = np.asarray(sizes, dtype=np.float64)
    elif isinstance(proportions, Mapping):
        unknown = sorted(set(map(str, proportions)) - set(names))
        if unknown:
            raise DataError(f"proportions name unknown targets {unknown}; the targets are {list(names)}")
        p = np.array([float(proportions.get(n, 0.0)) for n in names])
    else:
        try:
            p = np.asarray(list(proportions), dtype=np.float64)
        except (TypeError, ValueError):
            raise DataTypeError("proportions must be a mapping target -> share, a sequence of numbers or None") from None
        if p.shape != (k,):
            raise DataError(f"proportions must have one share per target ({k}); got {len(p)}")
    if not np.isfinite(p).all() or (p < 0).any() or p.sum() <= 0:
        raise DataError(f"proportions must be finite, >= 0 and not all 0; got {p.tolist()}")
    return p / p.sum()


def split_largest_remainder(total: int, shares: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers ∝ ``shares`` (largest remainder, ties to the first)."""
    raw = shares * total
    out = np.floor(raw).astype(np.int64)
    rest = total - int(out.sum())
    if rest > 0:
        order = np.lexsort((np.arange(len(raw)), -(raw - out)))
        out[order[:rest]] += 1
    return out


def pick_by_importance(log_w: np.ndarray, ids: Any, target: Target, *, shares: np.ndarray,
                       seed: int, sampling: str, tokens: np.ndarray | None = None,
                       eligible: np.ndarray | None = None) -> np.ndarray:
    """Positions picked by (Gumbel-)top-k of ``log_w`` (shape ``(n, n_targets)``), sorted."""
    n, k = log_w.shape
    free = np.ones(n, dtype=bool) if eligible is None else eligible.copy()
    tiebreak = tiebreak_keys(ids, seed)
    if target.examples is not None:
        quotas: list[float] = split_largest_remainder(target.examples, shares).tolist()
    else:
        assert target.tokens is not None
        quotas = (shares * target.tokens).tolist()
    chosen = []
    for j in range(k):
        if quotas[j] <= 0:
            continue
        key = log_w[:, j].copy()
        if sampling == "gumbel":
            u = uniform_keys(ids, derived_seed(seed, j))
            key += -np.log(-np.log(u))
        cand = np.flatnonzero(free)
        order = cand[np.lexsort((tiebreak[cand], -key[cand]))]
        sub = Target(examples=int(quotas[j])) if target.examples is not None else Target(tokens=quotas[j])
        got = take_prefix(order, sub, tokens)
        free[got] = False
        chosen.append(got)
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, np.int64)


def mixture_log_weights(log_w: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """``log sum_j share_j * w_ij``: the weight toward the mixture of the targets."""
    if log_w.shape[1] == 1:
        return log_w[:, 0].copy()
    with np.errstate(divide="ignore"):
        a = log_w + np.log(shares)[None, :]
    m = a.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(a - m).sum(axis=1, keepdims=True)))[:, 0]


def importance_weights(log_w: np.ndarray, clip: float | None,
                       eligible: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Normalised (mean 1) importance weights, clipped at ``clip`` times the mean.

    Rows not ``eligible`` get weight 0. Returns the weights and a report:
    ``clip``, ``n_clipped``, ``clipped_mass`` (fraction of the unclipped weight
    above the cap) and the effective sample size before and after clipping.

    Examples
    --------
    >>> w, info = importance_weights(np.log([1.0, 1.0, 1.0, 100.0]), clip=2.0)
    >>> [round(x, 6) for x in w.tolist()], info["n_clipped"]
    ([0.666667, 0.666667, 0.666667, 2.0], 1)
    """
    n = len(log_w)
    ok = np.ones(n, dtype=bool) if eligible is None else eligible
    m = int(ok.sum())
    w = np.zeros(n, dtype=np.float64)
    lw = log_w[ok]
    raw = np.exp(lw - lw.max())
    raw *= m / raw.sum()
    ess_before = float(raw.sum() ** 2 / (raw ** 2).sum())
    n_clipped, mass = 0, 0.0
    out = raw
    if clip is not None and raw.max() > clip:
        # find c with  c / mean(min(raw, c)) == clip
        s = np.sort(raw)
        csum = np.concatenate([[0.0], np.cumsum(s)])
        j = np.arange(m + 1)
        denom = m - clip * (m - j)
        with np.errstate(divide="ignore", invalid="ignore"):
            c = clip * csum / denom
        lo = np.concatenate([[0.0], s])
        hi = np.concatenate([s, [np.inf]])
        valid = (denom > 0) & (c > 0) & (c >= lo) & (c <= hi)
        # no positive cap reaches ``clip`` when fewer than m / clip rows have any weight (the rest
        # underflow to 0): then every row with weight gets the same, the flattest the clip allows
        cap = float(c[np.flatnonzero(valid)[0]]) if valid.any() else float(s[s > 0].min())
        n_clipped = int((raw > cap).sum())
        mass = float(np.maximum(raw - cap, 0).sum() / raw.sum())
        out = np.minimum(raw, cap) / cap  # in [0, 1], so the sum cannot underflow whatever the cap
        out *= m / out.sum()
    w[ok] = out
    ess_after = float(out.sum() ** 2 / (out ** 2).sum())
    info = {"clip": clip, "n_clipped": n_clipped, "clipped_mass": mass,
            "ess": ess_after, "ess_unclipped": ess_before, "max_weight": float(out.max())}
    return w, info
