import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from datadiet.value import CoresetSelector, inclusion_probabilities, leverage_scores


def test_leverage_is_the_hat_matrix_diagonal(bbc_vectors):
    x, _ = bbc_vectors
    x = x[:300, :20].astype(np.float64)
    z = np.c_[x, np.ones(len(x))]
    hat = np.einsum("ij,ji->i", z, np.linalg.pinv(z))
    np.testing.assert_allclose(leverage_scores(x, ridge=0.0, chunk=77), hat, atol=1e-8)
    assert leverage_scores(x, ridge=0.0).sum() == pytest.approx(21, abs=1e-6)


@given(st.lists(st.floats(0.001, 100), min_size=2, max_size=60), st.data())
def test_inclusion_probabilities_sum_to_m_and_are_capped(p, data):
    m = data.draw(st.integers(1, len(p)))
    pi = inclusion_probabilities(p, m)
    assert pi.sum() == pytest.approx(m)
    assert (pi <= 1 + 1e-12).all() and (pi > 0).all()
    p = np.asarray(p)
    free = pi < 1 - 1e-12
    if free.sum() > 1:  # uncapped rows stay proportional to p
        r = pi[free] / p[free]
        assert r.max() == pytest.approx(r.min(), rel=1e-9)


@pytest.mark.parametrize("score", ["sensitivity", "leverage", "uniform"])
def test_weights_sum_to_n_in_expectation_and_losses_are_unbiased(bbc_vectors, score):
    x, y = bbc_vectors
    x, y = x[:500, :32], y[:500]
    loss = np.linalg.norm(x - x.mean(0), axis=1) ** 2  # any per-row quantity
    sums, ests = [], []
    pi = None
    hits = np.zeros(len(x))
    for seed in range(300):
        sel = CoresetSelector(budget=50, score=score, seed=seed).fit(vectors=x, groups=y)
        idx, w = sel.selected_indices_, sel.weights_
        assert len(idx) == 50
        sums.append(w.sum())
        ests.append((w * loss[idx]).sum())
        hits[idx] += 1
        pi = sel.selection_.extra["inclusion_probability"]
    sums = np.asarray(sums)
    se = sums.std() / np.sqrt(len(sums))
    assert abs(sums.mean() - len(x)) < 4 * se + 1e-9
    ests = np.asarray(ests)
    assert abs(ests.mean() - loss.sum()) < 4 * ests.std() / np.sqrt(len(ests)) + 1e-9
    # every row is drawn with its inclusion probability
    freq = hits / 300
    assert np.abs(freq - pi).max() < 4 * np.sqrt(pi * (1 - pi) / 300).max() + 1e-9


def test_leverage_prefers_outlying_rows(bbc_vectors):
    x, y = bbc_vectors
    x = x[:1000, :16]
    h = leverage_scores(x)
    sel = CoresetSelector(budget=100, score="leverage", mix=0.0, seed=0).fit(vectors=x)
    # the size-biased mean sum(h^2) / sum(h): what leverage sampling should reach; uniform gives mean(h)
    assert h[sel.selected_indices_].mean() > 0.5 * (h.mean() + (h**2).sum() / h.sum())
    # rows with larger probability get smaller weights
    pi = sel.selection_.extra["inclusion_probability"]
    np.testing.assert_allclose(sel.weights_, 1 / pi[sel.selected_indices_])


def test_budget_equal_to_n_keeps_everything_with_weight_one(bbc_vectors):
    x, _ = bbc_vectors
    sel = CoresetSelector(budget=200, seed=0).fit(vectors=x[:200])
    assert len(sel.selected_indices_) == 200 and np.allclose(sel.weights_, 1.0)
