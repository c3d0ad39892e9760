"""Density-ratio selection and reweighting with a probabilistic classifier (target vs raw).

When n-grams are the wrong features (images, multilingual text, embeddings of
any kind), the importance weight ``p_target(x) / p_raw(x)`` can be estimated
from any vector signal: fit a logistic regression separating target vectors
(label 1) from pool vectors (label 0) with balanced class weights; its logit is
then an estimate of ``log p_target(x) - log p_raw(x)``. The weights are used as
in DSIR: Gumbel-top-k resampling keyed by ``(seed, id)``, deterministic top-k,
or clipped normalised weights (``mode="weights"``).

Needs scikit-learn (``pip install scikit-learn``, part of the ``dev`` extra).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from datadiet._core import REQUIRED, Param, derived_seed, register
from datadiet._core._errors import DataError, DataTypeError, MissingExtraError
from datadiet._core._hashing import uniform_keys
from datadiet.select._base import BaseSelector, Picked, Target
from datadiet.select._importance import (
    IMPORTANCE_PARAMS,
    check_mode_budget,
    importance_weights,
    pick_by_importance,
)
from datadiet.signals._table import Signals

__all__ = ["DensityRatioSelector"]


def _vectors(x: Any, what: str) -> np.ndarray:
    if isinstance(x, Signals):
        x = x.vectors
        if x is None:
            raise DataError(f"{what} has no vectors: load it with a --vectors column")
    try:
        a = np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError):
        raise DataTypeError(f"{what} must be a 2-D array of numbers (n, d)") from None
    if a.ndim != 2:
        raise DataError(f"{what} must be a 2-D array (n, d); got shape {a.shape}")
    if not np.isfinite(a).all():
        raise DataError(f"{what} holds NaN or infinite values; fix or drop those rows")
    return a


@register("select")
class DensityRatioSelector(BaseSelector):
    """Select or reweight the pool toward a target by classifier density ratios on vectors.

    Attributes
    ----------
    log_weights_ : ndarray
        Estimated ``log p_target(x) - log p_raw(x)`` per pool row.
    classifier_ : sklearn.linear_model.LogisticRegression

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> pool = np.concatenate([rng.normal(0, 1, (50, 2)), rng.normal(4, 1, (50, 2))])
    >>> s = DensityRatioSelector(target=rng.normal(4, 1, (30, 2)), budget=20, sampling="topk").fit(vectors=pool)
    >>> bool((s.selected_indices_ >= 50).all())
    True
    """

    method = "density-ratio"
    requires = ("vectors",)

    params = (
        Param("target", "any", REQUIRED, "vectors (n, d) of what you want more of, in the pool's space", cli=False),
        *IMPORTANCE_PARAMS,
        Param("C", "float", 1.0, "inverse L2 regularisation of the logistic regression", low=0, low_open=True),
        Param("max_fit", "int", 100_000, "at most this many pool rows (keyed by (seed, id)) fit the classifier",
              low=1),
    )

    def _check_params(self) -> None:
        check_mode_budget(type(self).__name__, self.mode, self.budget)

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        try:
            from sklearn.linear_model import LogisticRegression
        except ImportError:
            raise MissingExtraError("DensityRatioSelector needs scikit-learn: pip install scikit-learn") from None
        xt = _vectors(self.target, "the target")
        if len(xt) == 0:
            raise DataError("the target has no vectors: give examples of what you want more of")
        xr = _vectors(sig.vectors, "the pool vectors")
        if xt.shape[1] != xr.shape[1]:
            raise DataError(f"target vectors have {xt.shape[1]} dimensions but the pool's have {xr.shape[1]}; "
                             "embed both with the same model")
        n = len(xr)
        fit_rows = np.arange(n)
        if n > self.max_fit:
            keys = uniform_keys(sig.ids, derived_seed(seed, "density-ratio-fit-sample"))
            fit_rows = np.sort(np.argpartition(keys, self.max_fit - 1)[: self.max_fit])
        x = np.concatenate([xt, xr[fit_rows]])
        y = np.concatenate([np.ones(len(xt), np.int8), np.zeros(len(fit_rows), np.int8)])
        clf = LogisticRegression(C=self.C, class_weight="balanced", max_iter=1000)
        clf.fit(x, y)
        log_w = clf.decision_function(xr).astype(np.float64)
        self.classifier_ = clf
        self.log_weights_ = log_w
        metrics: dict[str, Any] = {"train_accuracy": float(clf.score(x, y)),
                                   "mean_log_ratio": float(log_w.mean())}
        if self.mode == "weights":
            w, info = importance_weights(log_w, self.clip)
            metrics.update({f"weights_{k}": v for k, v in info.items()})
            return Picked(np.arange(n), weights=w, extra={"log_weight": log_w}, metrics=metrics)
        idx = pick_by_importance(log_w[:, None], sig.ids, target, shares=np.ones(1), seed=seed,
                                 sampling=self.sampling, tokens=sig.tokens)
        return Picked(idx, extra={"log_weight": log_w}, metrics=metrics)


