"""KL divergence and KL reduction (DSIR paper definition)."""

from __future__ import annotations

import numpy as np
import pytest

from datadiet.metrics import kl_divergence, kl_reduction
from datadiet.signals import hashed_ngrams


def test_kl_is_zero_on_itself_and_positive_elsewhere():
    p = np.array([3, 1, 0, 6])
    assert kl_divergence(p, p, smoothing=0) == pytest.approx(0.0, abs=1e-12)
    assert kl_divergence(p, [1, 1, 1, 1], smoothing=0) > 0
    # matches the closed form
    pp, qq = p / p.sum(), np.array([2, 2, 1, 5]) / 10
    nz = pp > 0
    assert kl_divergence(p, [2, 2, 1, 5], smoothing=0) == pytest.approx(float(np.sum(pp[nz] * np.log(pp[nz] / qq[nz]))))


def test_kl_reduction_on_real_text(bbc, rt):
    topics = np.asarray(bbc.column("topic").to_pylist())
    nb = hashed_ngrams(bbc.column("text"), 5000)
    tech = topics == "tech"
    target = nb.counts(5000, tech & (np.arange(len(topics)) % 2 == 0))
    close = nb.counts(5000, tech & (np.arange(len(topics)) % 2 == 1))
    far = hashed_ngrams(rt.column("text"), 5000).counts(5000)
    assert kl_reduction(target, close, far) > 0.1
    assert kl_reduction(target, far, close) == pytest.approx(-kl_reduction(target, close, far))


def test_bad_counts():
    with pytest.raises(ValueError, match="same length"):
        kl_divergence([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="all zero"):
        kl_divergence([0, 0], [1, 1])
    with pytest.raises(ValueError, match=">= 0"):
        kl_divergence([1, -1], [1, 1])
    with pytest.raises(ValueError, match="infinite"):
        kl_divergence([1, 1], [1, 0], smoothing=0)
