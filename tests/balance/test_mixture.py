import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datadiet._core import DataError
from datadiet.balance import GroupBalanceSelector, MixtureLaw, capped_simplex


@settings(max_examples=10)
@given(st.integers(2, 6), st.integers(0, 10_000), st.data())
def test_exponential_law_recovers_the_optimum_under_limits(d, seed, data):
    rng = np.random.default_rng(seed)
    t = rng.normal(size=d)
    R = rng.dirichlet(np.ones(d), size=d + 6)
    loss = 1.5 + 0.3 * np.exp(R @ t)
    caps = {f"d{i}": data.draw(st.floats(0.2, 1.0)) for i in range(d)}
    if sum(caps.values()) < 1:
        caps = {k: 1.0 for k in caps}
    law = MixtureLaw(max_weight=caps).fit(R, loss)
    w = law.mixture_
    assert w.sum() == pytest.approx(1.0) and (w <= np.array(list(caps.values())) + 1e-9).all()
    # the true optimum of a linear objective over the capped simplex: fill by t ascending
    best = np.zeros(d)
    left = 1.0
    for j in np.argsort(t):
        best[j] = min(caps[f"d{j}"], left)
        left -= best[j]
    assert R.shape[0] >= d + 2
    assert 1.5 + 0.3 * np.exp(w @ t) == pytest.approx(1.5 + 0.3 * np.exp(best @ t), rel=1e-3)
    assert law.cv_["mae"] < 0.01


def test_capped_simplex_property():
    rng = np.random.default_rng(0)
    caps = np.array([0.1, 0.5, 0.3, 0.4])
    w = capped_simplex(rng.dirichlet(np.ones(4), size=1000), caps)
    assert np.allclose(w.sum(1), 1) and (w <= caps + 1e-12).all() and (w >= 0).all()


def test_token_limits_and_errors():
    R = np.random.default_rng(1).dirichlet(np.ones(3), size=8)
    loss = 2 + np.exp(R @ np.array([-3.0, 0.0, 1.0]))
    law = MixtureLaw(available={"a": 2e6}, total_tokens=1e7, max_epochs=2).fit(R, loss, domains=["a", "b", "c"])
    assert law.weights_["a"] == pytest.approx(0.4)  # 2M tokens, 2 epochs of 10M: at most 40 %
    q = law.quotas(1000)
    assert sum(q.values()) == 1000 and q["a"] == 400
    with pytest.raises(DataError, match="at least 5 runs"):
        MixtureLaw().fit(R[:4], loss[:4])
    with pytest.raises(DataError, match="total_tokens"):
        MixtureLaw(available={"a": 1}).fit(R, loss, domains=["a", "b", "c"])
    with pytest.raises(DataError, match="summing to"):
        MixtureLaw(max_weight={"a": 0.1, "b": 0.1, "c": 0.1}).fit(R, loss, domains=["a", "b", "c"])


@pytest.fixture(scope="module")
def proxy(bbc_topic_pools):
    """Proxy runs on real data: a logistic regression on 250 BBC articles mixed from the 5 topics;
    losses = log loss on each topic's held-out articles (the target weighs politics and tech twice)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    x, topics, test, names, pools = bbc_topic_pools

    def run(mix):
        counts = {g: max(2, int(round(250 * mix[g]))) for g in names}
        rows = np.concatenate([pools[g][: counts[g]] for g in names])
        model = LogisticRegression(max_iter=300, C=10).fit(x[rows], topics[rows])
        proba = model.predict_proba(x[test])
        yt = topics[test]
        return [log_loss(yt[yt == g], proba[yt == g], labels=model.classes_) for g in names]

    return run, names, np.array([2.0 if g in ("politics", "tech") else 1.0 for g in names])


@pytest.mark.parametrize("law", ["exponential", "lightgbm"])
def test_real_proxy_runs(proxy, law):
    run, names, v = proxy
    fitted = MixtureLaw(law=law, seed=0, n_candidates=20_000).fit_runs(run, names, n_runs=16, loss_weights=v)
    R, losses = fitted.runs_
    target = losses @ (v / v.sum())
    assert fitted.cv_["spearman"] > 0.2, fitted.cv_
    # the proposed mixture does at least as well as the median proxy run
    assert np.dot(run(fitted.weights_), v / v.sum()) <= np.median(target)
    if law == "exponential":  # the law's own optimum beats every proxy run it was fitted on
        assert np.dot(run(fitted.weights_), v / v.sum()) < target.min()
    sel = GroupBalanceSelector(quotas=fitted.quotas(200)).fit(groups=[g for g in names for _ in range(200)])
    assert len(sel.selected_indices_) == 200
