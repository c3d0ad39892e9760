import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from datadiet._core import DataError, ParamError
from datadiet.value import KNNShapley, KNNShapleySelector, knn_shapley


def _brute(xt, yt, xv, yv, k):
    """Shapley values of the KNN utility by enumerating subsets (tiny n only)."""
    n = len(xt)
    d = ((xv[:, None, :] - xt[None, :, :]) ** 2).sum(-1)
    out = np.zeros(n)
    for v in range(len(xv)):
        order = np.argsort(d[v], kind="stable")
        rank = np.empty(n, int)
        rank[order] = np.arange(n)

        def u(s, rank=rank, label=yv[v]):
            near = sorted(s, key=lambda i: rank[i])[:k]
            return sum(yt[i] == label for i in near) / k

        for i in range(n):
            others = [j for j in range(n) if j != i]
            for size in range(n):
                w = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
                for s in itertools.combinations(others, size):
                    out[i] += w * (u(list(s) + [i]) - u(list(s))) / len(xv)
    return out


@given(st.integers(0, 10_000), st.integers(1, 7), st.integers(1, 4))
def test_exact_equals_brute_force_shapley(seed, n, k):
    rng = np.random.default_rng(seed)
    xt = rng.normal(size=(n, 2))
    yt = rng.integers(0, 2, n)
    xv = rng.normal(size=(3, 2))
    yv = rng.integers(0, 2, 3)
    got = knn_shapley(xt, yt, xv, yv, k=k, metric="l2")
    np.testing.assert_allclose(got, _brute(xt, yt, xv, yv, k), atol=1e-9)


def test_efficiency_values_sum_to_full_utility(bbc_vectors):
    x, y = bbc_vectors
    xt, yt, xv, yv = x[:300], y[:300], x[300:400], y[300:400]
    v = KNNShapley(k=5).fit(xt, yt, xv, yv).values_
    # Shapley efficiency: the values add up to U(all) - U(empty) = mean KNN accuracy on the validation rows
    from datadiet.index import knn

    _, idx = knn(xv, xt, 5)
    acc = (yt[idx] == yv[:, None]).mean()
    assert v.sum() == pytest.approx(acc, abs=1e-9)


def test_flipped_labels_get_the_lowest_values(bbc_vectors):
    x, y = bbc_vectors
    rng = np.random.default_rng(0)
    n = 600
    noisy = y[:n].copy()
    flip = rng.choice(n, 60, replace=False)
    noisy[flip] = (noisy[flip] + rng.integers(1, 5, 60)) % 5
    v = KNNShapley(k=10).fit(x[:n], noisy, x[n:], y[n:]).values_
    lowest = np.argsort(v)[:60]
    precision = np.isin(lowest, flip).mean()
    assert precision > 0.7, precision  # random guessing gives 0.1


def test_self_mode_and_truncated_close_to_exact(bbc_vectors):
    x, y = bbc_vectors
    exact = KNNShapley(k=5).fit(x[:500], y[:500]).values_
    approx = KNNShapley(k=5, k_star=100).fit(x[:500], y[:500]).values_
    assert np.abs(approx - exact).max() <= 1 / 100
    exact_val = KNNShapley(k=5).fit(x[:400], y[:400], x[400:], y[400:]).values_
    approx_val = KNNShapley(k=5, k_star=50).fit(x[:400], y[:400], x[400:], y[400:]).values_
    assert np.abs(approx_val - exact_val).max() <= 1 / 50
    assert np.corrcoef(approx_val, exact_val)[0, 1] > 0.9


def test_batching_does_not_change_values(bbc_vectors):
    x, y = bbc_vectors
    a = KNNShapley(k=3, batch_size=7).fit(x[:200], y[:200], x[200:260], y[200:260]).values_
    b = KNNShapley(k=3).fit(x[:200], y[:200], x[200:260], y[200:260]).values_
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_bad_input():
    x = np.zeros((4, 2))
    with pytest.raises(DataError, match="y_train has 3"):
        KNNShapley().fit(x, [0, 1, 0], x, [0, 1, 0, 1])
    with pytest.raises(DataError, match="without y_val"):
        KNNShapley().fit(x, [0, 1, 0, 1], x)
    with pytest.raises(ParamError, match="k_star"):
        KNNShapley(k=10, k_star=5).fit(x, [0, 1, 0, 1])
    with pytest.raises(ParamError, match="^KNNShapley: k must be"):
        KNNShapley(k=0).fit(x, [0, 1, 0, 1])


def test_selector_drops_flipped_labels(bbc_vectors):
    x, y = bbc_vectors
    rng = np.random.default_rng(1)
    n = 800
    noisy = y[:n].astype(str).astype(object)
    flip = rng.choice(n, 40, replace=False)
    noisy[flip] = [str((int(v) + 1) % 5) for v in noisy[flip]]
    sel = KNNShapleySelector(budget=n - 40, k=10).fit(vectors=x[:n], groups=noisy.astype(str))
    dropped = np.flatnonzero(~sel.selection_.kept)
    assert np.isin(dropped, flip).mean() > 0.5  # random: 0.05
    assert sel.selection_.counts() == {"kept": n - 40, "low_value": 40}
    assert "score" in sel.selection_.to_table().column_names
    # validation data given through the Python API
    sel2 = KNNShapleySelector(budget=n - 40, k=10, val_vectors=x[n:], val_labels=y[n:].astype(str)).fit(
        vectors=x[:n], groups=noisy.astype(str))
    assert np.isin(np.flatnonzero(~sel2.selection_.kept), flip).mean() > 0.5
    with pytest.raises(ParamError, match="val_labels"):
        KNNShapleySelector(budget=10, val_vectors=x[n:]).fit(vectors=x[:n], groups=noisy.astype(str))
