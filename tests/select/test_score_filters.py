"""Score filters on real data: scores are BBC article lengths and RT snippet lengths."""

import numpy as np
import pytest

from datadiet import ScoreProportionalSampler, SoftCapSampler, ThresholdFilter, TopKSelector
from datadiet.select import combine_scores
from datadiet.signals import Signals
from datadiet.signals._tokens import estimate_tokens


@pytest.fixture(scope="module")
def sig(bbc):
    tokens = estimate_tokens(bbc.column("text").combine_chunks())
    title_len = np.array([len(t) for t in bbc.column("title").to_pylist()], dtype=float)
    return Signals.from_arrays(bbc.column("id"), tokens=tokens,
                               scores={"length": tokens.astype(float), "title": title_len})


def test_threshold_keeps_exactly_the_band(sig):
    s = sig.scores["length"]
    f = ThresholdFilter(min=300, max=600).fit(Signals.from_arrays(sig.ids, scores={"length": s}))
    kept = f.selection_.kept
    np.testing.assert_array_equal(kept, (s >= 300) & (s <= 600))
    c = f.selection_.counts()
    assert c["below_threshold"] == int((s < 300).sum()) and c["above_threshold"] == int((s > 600).sum())
    with pytest.raises(ValueError, match="min, max or both"):
        ThresholdFilter().fit(sig)
    with pytest.raises(ValueError, match="at most max"):
        ThresholdFilter(min=5, max=1).fit(sig)


def test_topk_single_and_combined(sig):
    one = Signals.from_arrays(sig.ids, tokens=sig.tokens, scores={"length": sig.scores["length"]})
    top = TopKSelector(budget=100).fit(one)
    s = sig.scores["length"]
    assert s[top.selected_indices_].min() >= np.sort(s)[-100]
    both = TopKSelector(budget=100, weights={"length": 1.0, "title": 1.0}).fit(sig)
    combined = combine_scores(sig.scores, {"length": 1.0, "title": 1.0}, "rank")
    assert combined[both.selected_indices_].min() >= np.sort(combined)[-100]
    neg = TopKSelector(budget=100, weights={"length": -1.0}).fit(one)
    assert s[neg.selected_indices_].max() <= np.sort(s)[99]
    with pytest.raises(ValueError, match="not given"):
        TopKSelector(budget=5, weights={"nope": 1.0}).fit(sig)


def test_topk_ties_broken_by_id_not_position():
    ids = np.array([f"x{i}" for i in range(50)])
    scores = np.ones(50)
    a = TopKSelector(budget=10, seed=1).fit(ids=ids, scores=scores)
    p = np.random.default_rng(0).permutation(50)
    b = TopKSelector(budget=10, seed=1).fit(ids=ids[p], scores=scores[p])
    assert set(ids[a.selected_indices_]) == set(ids[p][b.selected_indices_])


def test_topk_token_budget(sig):
    one = Signals.from_arrays(sig.ids, tokens=sig.tokens, scores={"length": sig.scores["length"]})
    sel = TopKSelector(budget="100000-tokens").fit(one)
    kept = sig.tokens[sel.selected_indices_].sum()
    assert kept <= 100_000 and 100_000 - kept < sig.tokens.max()


def test_score_proportional_prefers_high_scores(sig):
    s = sig.scores["length"]
    hits = np.zeros(len(s))
    for seed in range(30):
        hits[ScoreProportionalSampler(budget=100, seed=seed).fit(
            Signals.from_arrays(sig.ids, scores={"l": s})).selected_indices_] += 1
    long_, short = s > np.quantile(s, 0.9), s < np.quantile(s, 0.1)
    # P ∝ length: the top decile (>= ~4x the length of the bottom one) is picked far more often
    assert hits[long_].mean() > 3 * hits[short].mean()
    with pytest.raises(ValueError, match=">= 0"):
        ScoreProportionalSampler(budget=3).fit(scores=[-1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="every score is 0"):
        ScoreProportionalSampler(budget=1).fit(scores=[0.0, 0.0])


def test_softcap_sums_exactly_and_respects_cap(sig):
    s = sig.scores["length"]
    sel = SoftCapSampler(budget=5000, max_repeats=3).fit(Signals.from_arrays(sig.ids, scores={"l": s}))
    r = sel.selection_.repeats
    assert r.sum() == 5000 and r.max() <= 3
    assert np.corrcoef(r, s)[0, 1] > 0.5
    assert s[r == 3].min() >= s[r == 0].max() if (r == 0).any() else True
    with pytest.raises(ValueError, match="max_repeats"):
        SoftCapSampler(budget=10_000, max_repeats=2).fit(Signals.from_arrays(sig.ids, scores={"l": s}))
    with pytest.raises(ValueError, match="token budget"):
        SoftCapSampler(budget="5000-tokens").fit(sig)


def test_combine_scores_modes():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([10.0, 0.0, 5.0, 1.0])
    z = combine_scores({"a": a, "b": b}, normalize="zscore")
    np.testing.assert_allclose(z, (a - a.mean()) / a.std() + (b - b.mean()) / b.std())
    mm = combine_scores({"a": a}, {"a": 2.0}, normalize="minmax")
    np.testing.assert_allclose(mm, 2 * (a - 1) / 3)
    with pytest.raises(ValueError, match="normalize must be one of"):
        combine_scores({"a": a}, normalize="bogus")
