"""KL reduction, the data-selection metric of the DSIR paper (Xie et al., 2023).

For a target feature distribution ``p`` (empirical hashed n-gram frequencies of
the target data) and the feature distributions of two subsets of the pool of
the same size, a random one ``q_random`` and the selected one ``q_selected``::

    KL reduction = KL(p || q_random) - KL(p || q_selected)

Positive means the selection is closer to the target than chance. The paper
reports that it correlates with downstream accuracy (r = 0.89). ``q`` is
smoothed with ``smoothing`` pseudo-counts per bucket so KL stays finite; ``p``
is the raw empirical distribution (``0 log 0 = 0``).
"""

from __future__ import annotations

import numpy as np

from datadiet._core._errors import DataError

__all__ = ["kl_divergence", "kl_reduction"]


def _counts(c: object, what: str) -> np.ndarray:
    a = np.asarray(c, dtype=np.float64)
    if a.ndim != 1:
        raise DataError(f"{what} must be a 1-D array of counts per feature, got shape {a.shape}")
    if not np.isfinite(a).all() or (a < 0).any():
        raise DataError(f"{what} must hold finite counts >= 0")
    return a


def kl_divergence(p_counts: object, q_counts: object, *, smoothing: float = 1.0) -> float:
    """``KL(p || q)`` in nats between two count vectors over the same features.

    Parameters
    ----------
    p_counts, q_counts : array-like of counts, same length
    smoothing : float, default 1.0
        Pseudo-count added to every bucket of ``q`` (must be > 0 unless ``q``
        covers every feature of ``p``).

    Examples
    --------
    >>> round(kl_divergence([1, 1], [1, 1]), 6)
    0.0
    >>> kl_divergence([1, 0], [1, 1], smoothing=0) > 0
    True
    """
    p = _counts(p_counts, "p_counts")
    q = _counts(q_counts, "q_counts")
    if p.shape != q.shape:
        raise DataError(f"p_counts and q_counts must have the same length; got {p.size} and {q.size}")
    if smoothing < 0:
        raise DataError(f"smoothing must be >= 0; got {smoothing!r}")
    if p.sum() <= 0:
        raise DataError("p_counts is all zero: the target has no features")
    q = q + smoothing
    if q.sum() <= 0:
        raise DataError("q_counts is all zero and smoothing is 0: the subset has no features")
    p = p / p.sum()
    q = q / q.sum()
    nz = p > 0
    if (q[nz] == 0).any():
        raise DataError("q has zero probability where p does not (KL is infinite); use smoothing > 0")
    return float(np.sum(p[nz] * (np.log(p[nz]) - np.log(q[nz]))))


def kl_reduction(target_counts: object, selected_counts: object, random_counts: object, *,
                 smoothing: float = 1.0) -> float:
    """``KL(target || random subset) - KL(target || selected subset)`` (nats; higher is better).

    Examples
    --------
    >>> t = [5, 5, 0, 0]
    >>> kl_reduction(t, selected_counts=[4, 6, 0, 1], random_counts=[1, 1, 5, 5]) > 0
    True
    """
    return (kl_divergence(target_counts, random_counts, smoothing=smoothing)
            - kl_divergence(target_counts, selected_counts, smoothing=smoothing))
