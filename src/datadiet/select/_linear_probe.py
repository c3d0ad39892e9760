"""A linear probe as ``auto``'s held-out check: softmax regression on the picked rows, scored on the rest."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize

from datadiet._core._rows import unit_rows

__all__ = ["fit_softmax", "probe_check"]

#: Unpicked rows (chosen by key) the probe is scored on.
PROBE_ROWS = 65536
#: Picked rows (chosen by key) the probe is trained on, at most.
TRAIN_ROWS = 20000


def fit_softmax(x: np.ndarray, y: np.ndarray, c: float = 1.0, maxiter: int = 300
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multinomial logistic regression, ``c * cross-entropy + ||W||^2 / 2`` (intercept free), by L-BFGS.

    The objective of scikit-learn's ``LogisticRegression(C=c)`` with the multinomial loss;
    written here so the core needs only numpy and scipy. Returns ``(W, b, classes)``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0], [0.2], [2.0], [2.2]]); y = np.array(["a", "a", "b", "b"])
    >>> w, b, classes = fit_softmax(x, y)
    >>> classes[(np.array([[0.1], [2.1]]) @ w + b).argmax(1)].tolist()
    ['a', 'b']
    """
    classes, yi = np.unique(y, return_inverse=True)
    xs = np.asarray(x, dtype=np.float64)
    n, d = xs.shape
    k = len(classes)
    onehot = np.zeros((n, k))
    onehot[np.arange(n), yi] = 1.0

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: d * k].reshape(d, k), theta[d * k:]
        z = xs @ w + b
        z -= z.max(1, keepdims=True)
        lse = np.log(np.exp(z).sum(1))
        g = c * (np.exp(z - lse[:, None]) - onehot)
        value = c * float(lse.sum() - (z * onehot).sum()) + 0.5 * float((w * w).sum())
        return value, np.concatenate([(xs.T @ g + w).ravel(), g.sum(0)])

    res = minimize(loss, np.zeros(d * k + k), jac=True, method="L-BFGS-B", options={"maxiter": maxiter})
    return res.x[: d * k].reshape(d, k), res.x[d * k:], classes


def probe_check(x: Any, y: np.ndarray, picked: np.ndarray, keys: np.ndarray, metric: str,
                held_out: np.ndarray | None = None) -> float:
    """Accuracy of a linear probe trained on ``picked`` over up to 65,536 ``held_out`` rows (smallest ``keys``).

    ``held_out`` defaults to every row not picked; candidates compared with one another
    should share it (rows none of them picked), or each is scored on the rows its own
    choice left, which favours samples that leave the easy rows out.

    The probe is trained on at most 20,000 of the picked rows (smallest ``keys``), so its cost
    does not grow with the budget. Rows are L2-normalised for the cosine metric. One class in
    ``picked`` predicts that class.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.r_[np.zeros((50, 2)), np.ones((50, 2))] + np.random.default_rng(0).normal(0, 0.1, (100, 2))
    >>> y = np.r_[np.zeros(50, int), np.ones(50, int)]
    >>> probe_check(x, y, np.array([0, 1, 50, 51]), np.linspace(0, 1, 100), "l2")
    1.0
    """
    if held_out is None:
        rest = np.ones(len(y), bool)
        rest[picked] = False
        held_out = np.flatnonzero(rest)
    others = np.sort(_smallest_keys(held_out, keys, PROBE_ROWS))
    if len(others) == 0:
        return 0.0

    def rows(idx: np.ndarray) -> np.ndarray:
        v = np.asarray(x[idx], dtype=np.float64)
        if metric == "cosine":
            unit_rows(v)
        return v

    picked = _smallest_keys(picked, keys, TRAIN_ROWS)
    if len(np.unique(y[picked])) < 2:
        return float(np.mean(y[others] == y[picked][0]))
    w, b, classes = fit_softmax(rows(picked), y[picked])
    return float(np.mean(classes[(rows(others) @ w + b).argmax(1)] == y[others]))


def _smallest_keys(rows: np.ndarray, keys: np.ndarray, m: int) -> np.ndarray:
    """``rows`` when there are at most ``m``, else the ``m`` of them with the smallest ``keys`` (unordered)."""
    return rows if len(rows) <= m else rows[np.argpartition(keys[rows], m - 1)[:m]]
