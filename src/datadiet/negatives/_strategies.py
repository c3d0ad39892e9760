"""How negatives are picked from each query's candidate window.

The window of a (query, positive) pair is a (W,) row of candidate scores in
descending order with a validity mask (removed or missing candidates are
invalid). Every strategy returns, for each pair, the window positions of its
``k`` negatives (``-1`` where fewer than ``k`` valid candidates exist):

* ``top`` -- the ``k`` best valid candidates;
* ``random`` -- ``k`` valid candidates uniformly without replacement;
* ``simans`` -- ``k`` valid candidates without replacement with probability
  proportional to ``exp(-a (s(q, d) - s(q, d+) - b)^2)`` (SimANS, Zhou et al. 2022),
  drawn with Gumbel-top-k so a draw with ``k = 1`` follows the formula exactly;
* ``mixed`` -- ``round(hard_ratio * k)`` top candidates plus random valid ones.

Randomness comes from per-(query, positive, document) uniform keys computed
by the caller from hashed ids, so the choice does not depend on row order.

Examples
--------
>>> import numpy as np
>>> s = np.array([[0.9, 0.8, 0.7]]); valid = np.ones_like(s, bool)
>>> pick(s, valid, 2, "top", keys=np.full(s.shape, 0.5)).tolist()
[[0, 1]]
"""

from __future__ import annotations

import numpy as np

__all__ = ["pick", "simans_log_weights", "STRATEGIES"]

STRATEGIES = ("top", "random", "simans", "mixed")


def simans_log_weights(scores: np.ndarray, positive_score: np.ndarray, a: float, b: float) -> np.ndarray:
    """``-a (s - s+ - b)^2``: the log of SimANS's unnormalised sampling weight."""
    gap = scores.astype(np.float64) - positive_score.astype(np.float64)[:, None] - b
    return -a * gap * gap


def _first_k(order_key: np.ndarray, valid: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest ``order_key`` among valid entries, best first; ``-1`` pads."""
    key = np.where(valid, order_key, -np.inf)
    w = key.shape[1]
    kk = min(k, w)
    if kk < w:
        part = np.argpartition(-key, kk - 1, axis=1)[:, :kk]
    else:
        part = np.broadcast_to(np.arange(w), key.shape).copy()
    sub = np.take_along_axis(key, part, axis=1)
    order = np.argsort(-sub, axis=1, kind="stable")
    pos = np.take_along_axis(part, order, axis=1)
    ok = np.take_along_axis(valid, pos, axis=1)
    pos = np.where(ok, pos, -1)
    if kk < k:
        pos = np.concatenate([pos, np.full((len(pos), k - kk), -1, dtype=pos.dtype)], axis=1)
    return pos


def _gumbel(u: np.ndarray) -> np.ndarray:
    return -np.log(-np.log(u))


def pick(scores: np.ndarray, valid: np.ndarray, k: int, strategy: str, *, keys: np.ndarray,
         positive_score: np.ndarray | None = None, a: float = 1.0, b: float = 0.0,
         hard_ratio: float = 0.5) -> np.ndarray:
    """Window positions (P, k) of the chosen negatives, sorted by descending score; ``-1`` pads.

    ``keys`` are uniform (0, 1) numbers of the same shape as ``scores``.
    """
    if strategy == "top":
        return _first_k(-np.arange(scores.shape[1], dtype=np.float64)[None, :].repeat(len(scores), 0), valid, k)
    if strategy == "random":
        chosen = _first_k(keys, valid, k)
    elif strategy == "simans":
        assert positive_score is not None
        chosen = _first_k(simans_log_weights(scores, positive_score, a, b) + _gumbel(keys), valid, k)
    elif strategy == "mixed":
        k_hard = int(round(hard_ratio * k))
        hard = pick(scores, valid, k_hard, "top", keys=keys) if k_hard else np.zeros((len(scores), 0), np.int64)
        rest = valid.copy()
        rows = np.nonzero(hard >= 0)
        rest[rows[0], hard[rows]] = False
        rand = _first_k(keys, rest, k - k_hard) if k > k_hard else np.zeros((len(scores), 0), np.int64)
        chosen = np.concatenate([hard, rand], axis=1)
    else:  # pragma: no cover - validated by the miner's parameters
        raise ValueError(f"unknown strategy {strategy!r}")
    # best score first, missing (-1) last
    s = np.where(chosen >= 0, np.take_along_axis(scores, np.maximum(chosen, 0), axis=1), -np.inf)
    order = np.argsort(-s, axis=1, kind="stable")
    return np.take_along_axis(chosen, order, axis=1)
