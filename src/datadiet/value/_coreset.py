"""Leverage-score and sensitivity coresets for linear and logistic models on vectors."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from datadiet._core import Param, derived_seed, register
from datadiet._core._hashing import hash_ids, uniform_keys
from datadiet.select._base import BUDGETED, BaseSelector, Picked, Target
from datadiet.signals._table import Signals

__all__ = ["CoresetSelector", "leverage_scores", "inclusion_probabilities"]


def leverage_scores(X: Any, *, ridge: float = 1e-6, groups: Any = None, chunk: int = 65536) -> np.ndarray:
    """Ridge leverage ``h_i = z_i^T (Z^T Z + ridge * I)^-1 z_i`` of ``Z = [X, 1]`` (``[X, onehot(groups)]``).

    Streams ``X`` in chunks: ``O(n d^2)`` time, ``O(d^2)`` extra memory.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.0], [0.0], [10.0]])
    >>> leverage_scores(X).round(2).tolist()
    [0.33, 0.33, 0.33, 1.0]
    """
    X = np.asarray(X)
    n, d = X.shape
    if groups is None:
        codes = np.zeros(n, dtype=np.int64)
        g = 1
    else:
        codes = np.asarray(groups, dtype=np.int64)
        g = int(codes.max()) + 1 if n else 1

    def block(s: int) -> np.ndarray:
        z = np.zeros((min(n, s + chunk) - s, d + g))
        z[:, :d] = X[s:s + chunk]
        z[np.arange(len(z)), d + codes[s:s + chunk]] = 1.0
        return z

    gram = np.zeros((d + g, d + g))
    for s in range(0, n, chunk):
        z = block(s)
        gram += z.T @ z
    scale = max(float(np.trace(gram)) / (d + g), 1.0)
    chol = np.linalg.cholesky(gram + ridge * scale * np.eye(d + g))
    out = np.empty(n)
    for s in range(0, n, chunk):
        z = block(s)
        sol = np.linalg.solve(chol, z.T)
        out[s:s + len(z)] = (sol * sol).sum(axis=0)
    return np.clip(out, 0.0, 1.0)


def inclusion_probabilities(p: Any, m: int) -> np.ndarray:
    """``pi_i = min(1, c * p_i)`` with ``c`` such that ``sum(pi) == m`` (``0 < m <= n``, ``p > 0``)."""
    p = np.asarray(p, dtype=np.float64)
    n = len(p)
    if m >= n:
        return np.ones(n)
    pi = np.zeros(n)
    free = np.ones(n, dtype=bool)
    left = float(m)
    while True:
        c = left / p[free].sum()
        cand = c * p
        over = free & (cand >= 1.0)
        if not over.any():
            pi[free] = cand[free]
            return pi
        pi[over] = 1.0
        free &= ~over
        left = m - float(pi[~free].sum())


@register("select")
class CoresetSelector(BaseSelector):
    """Importance-sampled coreset with Horvitz-Thompson weights (weighted losses stay unbiased).

    Rows are drawn with inclusion probability ``pi_i`` proportional to an
    importance ``q_i`` (capped at 1, summing to the budget) by systematic sampling
    in ``(seed, id)`` order, so the coreset has exactly ``budget`` rows. Each kept
    row has weight ``1 / pi_i``: for any per-example loss, the weighted loss on
    the coreset is an unbiased estimate of the full-data loss, and the weights
    sum to ``n`` in expectation.

    Importances (``score``):

    * ``leverage`` -- ridge leverage scores of ``[X, 1]``: the rows that pin down a
      least-squares / linear model (Drineas et al.);
    * ``sensitivity`` -- ``sqrt(leverage) + 1/n`` on ``[X, onehot(label)]`` when a
      label column is given: the sensitivity bound of logistic regression
      (Munteanu et al., 2018);
    * ``uniform`` -- every row alike (the baseline).

    ``mix`` blends in a uniform share ``q <- (1 - mix) q / sum(q) + mix / n`` so no
    row has a vanishing probability (and weights stay bounded by ``n / (mix m)``).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(1000, 5))
    >>> sel = CoresetSelector(budget=100, seed=0).fit(vectors=X)
    >>> len(sel.selected_indices_), round(float(sel.weights_.sum()) / 1000, 1)
    (100, 1.0)
    """

    method = "coreset"
    summary = "leverage / sensitivity sampling with unbiased importance weights (linear, logistic models)"
    example = "datadiet select coreset data.jsonl --model static --label topic -b 10% -o coreset.parquet"
    requires: ClassVar[tuple[str, ...]] = ("vectors",)
    supports_tokens: ClassVar[bool] = False

    params = (
        *BUDGETED,
        Param("score", "choice", "sensitivity", "importance of a row", choices=("sensitivity", "leverage",
                                                                               "uniform")),
        Param("mix", "float", 0.1, "uniform share mixed into the importances", low=0, high=1),
        Param("ridge", "float", 1e-6, "ridge of the leverage scores, relative to the mean squared norm", low=0),
    )

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        assert sig.vectors is not None and target.examples is not None
        n = len(sig)
        x = np.asarray(sig.vectors, dtype=np.float64)  # finite: BaseSelector.fit checked
        if self.score == "uniform":
            q = np.ones(n)
        else:
            groups = sig.groups if self.score == "sensitivity" else None
            h = leverage_scores(x, ridge=self.ridge, groups=groups)
            q = np.sqrt(h) + 1.0 / n if self.score == "sensitivity" else h
        total = q.sum()
        q = np.full(n, 1.0 / n) if total <= 0 else (1 - self.mix) * q / total + self.mix / n
        m = target.examples
        pi = inclusion_probabilities(q, m)
        chosen = _systematic(pi, m, sig.ids, seed)
        weights = 1.0 / pi[chosen]
        metrics = {"weight_sum": float(weights.sum()), "max_weight": float(weights.max()),
                   "certain_rows": int((pi >= 1.0).sum()), "score": self.score}
        return Picked(chosen, weights=weights, extra={"inclusion_probability": pi}, metrics=metrics)


def _systematic(pi: np.ndarray, m: int, ids: Any, seed: int) -> np.ndarray:
    """Systematic sampling: exactly ``m`` rows, row ``i`` with probability ``pi_i`` (rows in ``(seed, id)`` order)."""
    n = len(pi)
    if m >= n:
        return np.arange(n)
    order = np.argsort(hash_ids(ids, derived_seed(seed, "coreset-order")), kind="stable")
    csum = np.cumsum(pi[order])
    csum *= m / csum[-1]  # remove rounding drift so the last boundary is exactly m
    start = float(uniform_keys(np.array([0], dtype=np.int64), derived_seed(seed, "coreset-start"))[0])
    points = start + np.arange(m)
    pos = np.searchsorted(csum, points, side="right")
    return np.sort(order[np.minimum(pos, n - 1)])
