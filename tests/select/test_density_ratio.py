"""Classifier density-ratio selection on real text vectors (TF-IDF + SVD of BBC News)."""

from __future__ import annotations

import numpy as np
import pytest

from datadiet.select import DensityRatioSelector
from datadiet.signals import Signals
from tests.checks import run_selector_checks

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def bbc_vectors(bbc):
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    x = TfidfVectorizer(min_df=3, sublinear_tf=True).fit_transform(bbc.column("text").to_pylist())
    v = TruncatedSVD(64, random_state=0).fit_transform(x).astype(np.float32)
    return v, np.asarray(bbc.column("topic").to_pylist()), bbc.column("id").to_pylist()


def test_shared_selector_checks(bbc_vectors):
    v, topics, ids = bbc_vectors
    target = v[topics == "tech"][::2].tolist()  # a list: the check suite compares params with ==
    sig = Signals.from_arrays(ids[::10], vectors=v[::10])
    run_selector_checks(lambda **kw: DensityRatioSelector(target=target, **kw), sig, budget=30)


def test_selects_mostly_the_target_topic_and_weights_agree(bbc_vectors):
    v, topics, ids = bbc_vectors
    sig = Signals.from_arrays(ids, vectors=v)
    target = v[(topics == "tech")][::2]
    s = DensityRatioSelector(target=target, budget=300, seed=0, sampling="topk").fit(sig)
    assert (topics[s.selected_indices_] == "tech").mean() >= 0.8
    g = DensityRatioSelector(target=target, budget=300, seed=0).fit(sig)
    assert (topics[g.selected_indices_] == "tech").mean() >= 0.6  # sampling ∝ ratio is noisier than top-k
    w = DensityRatioSelector(target=target, mode="weights", clip=10.0).fit(sig)
    np.testing.assert_allclose(w.log_weights_, s.log_weights_)
    sel = w.selection_
    assert sel.kept.all() and abs(sel.weight.mean() - 1) < 1e-9 and sel.weight.max() <= 10 + 1e-9
    assert sel.weight[topics == "tech"].mean() > 5 * sel.weight[topics == "sport"].mean()
    # max_fit subsamples the pool by (seed, id) and still scores every row
    small = DensityRatioSelector(target=target, budget=300, max_fit=500).fit(sig)
    assert len(small.log_weights_) == len(ids)


def test_bad_inputs(bbc_vectors):
    v, _, ids = bbc_vectors
    sig = Signals.from_arrays(ids, vectors=v)
    with pytest.raises(ValueError, match="dimensions"):
        DensityRatioSelector(target=v[:5, :10], budget=5).fit(sig)
    with pytest.raises(ValueError, match="no vectors"):
        DensityRatioSelector(target=np.zeros((0, v.shape[1])), budget=5).fit(sig)
    with pytest.raises(ValueError, match="NaN"):
        DensityRatioSelector(target=np.full((3, v.shape[1]), np.nan), budget=5).fit(sig)
    with pytest.raises(ValueError, match="needs vectors"):
        DensityRatioSelector(target=v[:5], budget=5).fit(ids=[1, 2, 3])
    with pytest.raises(ValueError, match="budget must be None with mode"):
        DensityRatioSelector(target=v[:5], budget=5, mode="weights").fit(sig)
