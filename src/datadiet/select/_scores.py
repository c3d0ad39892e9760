"""Combine several score columns into one, with user weights."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from datadiet._core import Param
from datadiet._core._errors import DataError

__all__ = ["combine_scores"]

_NORMALIZE = ("auto", "none", "rank", "zscore", "minmax")
NORMALIZE = Param("normalize", "choice", "auto", "how score columns are normalised before combining",
                  choices=_NORMALIZE)


def combine_scores(scores: Mapping[str, np.ndarray], weights: Mapping[str, float] | None = None,
                   normalize: str = "auto") -> np.ndarray:
    """Weighted sum of score columns after normalisation.

    Parameters
    ----------
    scores : dict of name -> array
    weights : dict of name -> float, optional
        Weight of each column (default 1 each). Negative weights prefer low values.
    normalize : {"auto", "none", "rank", "zscore", "minmax"}
        ``rank`` maps each column to its percentile in [0, 1] (robust to scale and
        outliers); ``auto`` is ``none`` for one column with unit weight and
        ``rank`` otherwise.

    Examples
    --------
    >>> combine_scores({"a": np.array([1.0, 2.0, 3.0])}).tolist()
    [1.0, 2.0, 3.0]
    >>> combine_scores({"a": np.array([1.0, 2, 3]), "b": np.array([30.0, 20, 10])}).tolist()
    [1.0, 1.0, 1.0]
    """
    NORMALIZE.check(normalize)
    if not scores:
        raise DataError("no score column given: load at least one score column")
    weights = dict(weights or {})
    unknown = set(weights) - set(scores)
    if unknown:
        raise DataError(f"weights name score columns {sorted(unknown)} that are not given; scores: {sorted(scores)}")
    if normalize == "auto":
        single = len(scores) == 1 and float(weights.get(next(iter(scores)), 1.0)) == 1.0
        normalize = "none" if single else "rank"
    total = None
    for name, s in scores.items():
        s = np.asarray(s, dtype=np.float64)
        if normalize == "rank":
            s = _average_ranks(s) / max(len(s) - 1, 1)
        elif normalize == "zscore":
            sd = s.std()
            s = (s - s.mean()) / (sd if sd > 0 else 1.0)
        elif normalize == "minmax":
            span = s.max() - s.min()
            s = (s - s.min()) / (span if span > 0 else 1.0)
        s = s * float(weights.get(name, 1.0))
        total = s if total is None else total + s
    assert total is not None
    return total


def _average_ranks(s: np.ndarray) -> np.ndarray:
    """0-based ranks, ties sharing their average rank (like ``scipy.stats.rankdata - 1``)."""
    order = np.argsort(s, kind="stable")
    sorted_s = s[order]
    starts = np.flatnonzero(np.r_[True, sorted_s[1:] != sorted_s[:-1]])
    ends = np.r_[starts[1:], len(s)]
    avg = (starts + ends - 1) / 2.0
    ranks = np.empty(len(s))
    ranks[order] = np.repeat(avg, ends - starts)
    return ranks
