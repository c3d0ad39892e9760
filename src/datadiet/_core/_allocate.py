"""Split a budget across groups: temperature proportions, quotas, caps, water-filling."""

from __future__ import annotations

import numpy as np

from datadiet._core._errors import DataError

__all__ = ["allocate", "temperature_proportions", "water_fill", "round_preserving_sum"]


def temperature_proportions(sizes: np.ndarray, alpha: float) -> np.ndarray:
    """``p_g`` proportional to ``n_g ** alpha`` (alpha 1: proportional, 0: uniform).

    Examples
    --------
    >>> temperature_proportions(np.array([900, 100]), 0.5).round(2).tolist()
    [0.75, 0.25]
    """
    sizes = np.asarray(sizes, dtype=np.float64)
    w = np.where(sizes > 0, np.power(np.maximum(sizes, 1e-300), alpha), 0.0)
    total = w.sum()
    if total <= 0:
        raise DataError("every group is empty")
    return w / total


def water_fill(p: np.ndarray, upper: np.ndarray, total: float) -> np.ndarray:
    """Real amounts ``q = min(upper, lam * p)`` summing to ``total`` (or to ``upper.sum()`` if smaller).

    What a capped group cannot take is shared by the others in proportion to ``p``.

    Examples
    --------
    >>> water_fill(np.array([0.5, 0.5]), np.array([10.0, np.inf]), 100).tolist()
    [10.0, 90.0]
    """
    p = np.asarray(p, dtype=np.float64)
    upper = np.asarray(upper, dtype=np.float64)
    q = np.zeros_like(p)
    free = (p > 0) & (upper > 0)
    remaining = float(total)
    while free.any() and remaining > 1e-9:
        lam = remaining / p[free].sum()
        want = lam * p
        over = free & (want >= upper)
        if not over.any():
            q[free] = want[free]
            break
        q[over] = upper[over]
        remaining = float(total) - q.sum()
        free &= ~over
    return q


def round_preserving_sum(x: np.ndarray, upper: np.ndarray | None = None) -> np.ndarray:
    """Integers near ``x`` whose sum is ``round(x.sum())``, never above ``upper`` (largest remainder).

    Examples
    --------
    >>> round_preserving_sum(np.array([1.5, 1.5, 1.0])).tolist()
    [2, 1, 1]
    """
    x = np.asarray(x, dtype=np.float64)
    base = np.floor(x + 1e-9).astype(np.int64)
    if upper is not None:
        up = np.asarray(upper, dtype=np.float64)
        base = np.where(base > up, np.floor(np.minimum(up, 2**62)), base).astype(np.int64)
    short = int(round(x.sum())) - int(base.sum())
    if short > 0:
        frac = x - base
        room = np.ones(len(x), dtype=bool) if upper is None else base < np.floor(np.asarray(upper, dtype=np.float64))
        frac = np.where(room, frac, -np.inf)
        order = np.lexsort((np.arange(len(x)), -frac))
        base[order[: min(short, int(room.sum()))]] += 1
    return base


def allocate(weights: np.ndarray, cap: np.ndarray, total: int) -> np.ndarray:
    """Integer amounts ∝ ``weights``, each at most ``cap``, summing to ``min(total, cap.sum())``.

    Examples
    --------
    >>> allocate(np.array([1.0, 1.0, 2.0]), np.array([10, 1, 10]), 8).tolist()
    [2, 1, 5]
    """
    w = np.asarray(weights, dtype=np.float64)
    cap = np.asarray(cap, dtype=np.float64)
    if w.sum() <= 0:
        w = np.where(cap > 0, 1.0, 0.0)
    total = int(min(total, cap.sum()))
    q = water_fill(w / w.sum(), cap, total)
    out = round_preserving_sum(q, cap)
    short = total - int(out.sum())
    if short > 0:  # rounding left room: give it to clusters with space, largest weight first
        room = np.flatnonzero(out < cap)
        order = room[np.lexsort((room, -w[room]))]
        for j in order[:short]:
            out[j] += 1
    return out
