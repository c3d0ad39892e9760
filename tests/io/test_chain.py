import numpy as np
import pyarrow as pa
import pytest

from datadiet import GroupBalanceSelector, ThresholdFilter
from datadiet.io import chain
from datadiet.signals import Signals
from datadiet.signals._tokens import estimate_tokens


def test_filter_then_balance_on_real_data(bbc):
    tokens = estimate_tokens(bbc.column("text").combine_chunks())
    sig = Signals.from_arrays(bbc.column("id"), groups=bbc.column("topic"), scores={"tokens": tokens.astype(float)})
    first = ThresholdFilter(max=800).fit(sig).selection_
    kept = first.indices
    sub = Signals.from_arrays(sig.ids.take(pa.array(kept[::-1])), groups=np.asarray(bbc.column("topic"))[kept[::-1]])
    second = GroupBalanceSelector(budget=500, alpha=0.0, mode="upsample", seed=2).fit(sub).selection_
    both = chain(first, second)
    assert len(both) == 2225
    c = both.counts()
    assert c["above_threshold"] == first.counts()["above_threshold"]
    assert both.repeats.sum() == 500
    assert not (both.kept & (tokens > 800)).any()
    by_id = dict(zip(second.ids.to_pylist(), second.repeats.tolist()))
    for i, r in zip(both.ids.to_pylist(), both.repeats.tolist()):
        if i in by_id:
            assert r == by_id[i]
    assert both.method == "threshold+balance"
    assert [s["method"] for s in both.params["steps"]] == ["threshold", "balance"]
    score = pa.array(both.extra["score"])
    assert score.null_count == 0  # the threshold saw every row


def test_chain_rejects_unrelated_selections(bbc):
    sig = Signals.from_arrays(bbc.column("id"), scores={"s": np.arange(2225.0)})
    first = ThresholdFilter(min=100).fit(sig).selection_
    other = ThresholdFilter(min=0).fit(Signals.from_arrays(np.arange(first.n_kept), scores={"s": np.ones(first.n_kept)}))
    with pytest.raises(ValueError, match="not the rows the first one kept"):
        chain(first, other.selection_)
    with pytest.raises(ValueError, match="kept 2125"):
        chain(first, first)
