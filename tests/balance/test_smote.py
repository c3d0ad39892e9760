import numpy as np
import pytest

from datadiet._core import DataError, ParamError
from datadiet.balance import SMOTEResampler

imblearn = pytest.importorskip("imblearn")


@pytest.mark.parametrize("name,cls,nn", [
    ("smote", "SMOTE", "k_neighbors"),
    ("borderline-smote", "BorderlineSMOTE", "k_neighbors"),
    ("adasyn", "ADASYN", "n_neighbors"),
    ("random-under", "RandomUnderSampler", None),
    ("near-miss", "NearMiss", "n_neighbors"),
    ("tomek-links", "TomekLinks", None),
])
def test_output_equals_imbalanced_learn(bbc_imbalanced, name, cls, nn):
    import imblearn.over_sampling as over
    import imblearn.under_sampling as under

    x, y, ids = bbc_imbalanced
    ours = SMOTEResampler(sampler=name, k_neighbors=4, seed=3).fit(x, y, ids=ids)
    kw = {nn: 4} if nn else {}
    if name not in ("near-miss", "tomek-links"):
        kw["random_state"] = 3
    ref_x, ref_y = getattr(over if hasattr(over, cls) else under, cls)(**kw).fit_resample(x, y)
    np.testing.assert_array_equal(ours.X_, ref_x)
    np.testing.assert_array_equal(ours.y_, ref_y)
    assert len(ours.ids_) == len(ref_x)
    sel = ours.selection_
    n_synth = len(ours.synthetic_)
    # every row of X_ is a kept real row (with its own id) or a synthetic one
    assert int(sel.repeats.sum()) + n_synth == len(ref_x)
    real_ids = set(ids.tolist())
    assert not (set(ours.synthetic_.column("id").to_pylist()) & real_ids)
    assert set(ours.ids_.to_pylist()[: len(ref_x) - n_synth]) <= real_ids


def test_synthetic_rows_lie_between_real_rows_of_their_class(bbc_imbalanced):
    x, y, ids = bbc_imbalanced
    r = SMOTEResampler(sampler="smote", seed=0).fit(x, y, ids=ids)
    counts = dict(zip(*np.unique(r.y_, return_counts=True), strict=True))
    assert len(set(counts.values())) == 1  # "auto" equalises every class
    syn = r.synthetic_
    assert syn.num_rows == sum(counts[c] for c in counts) - len(y)
    parent = np.searchsorted(ids, syn.column("synthetic_of").to_numpy())
    assert (y[parent] == np.asarray(syn.column("label").to_pylist())).all()
    vec = np.asarray(syn.column("vector").to_pylist(), np.float32)
    # a synthetic row is closer to its parent than the parent's class is spread on average
    d_parent = np.linalg.norm(vec - x[parent], axis=1)
    assert np.median(d_parent) < np.median(np.linalg.norm(x[y == "sport"] - x[y == "sport"].mean(0), axis=1))
    assert r.selection_.counts() == {"kept": len(y)}
    assert r.selection_.metrics["synthetic"] == syn.num_rows


def test_under_sampler_selection_says_what_was_removed(bbc_imbalanced):
    x, y, ids = bbc_imbalanced
    r = SMOTEResampler(sampler="random-under", seed=1).fit(x, y, ids=ids)
    sel = r.selection_
    assert sel.counts()["kept"] == 5 * 40
    assert sel.counts()["under_sampled"] == len(y) - 200
    kept_ids = set(sel.ids.filter(sel.kept).to_pylist())
    assert kept_ids == set(r.ids_.to_pylist())


def test_bad_input():
    with pytest.raises(ParamError, match="^SMOTEResampler: sampler must be one of"):
        SMOTEResampler(sampler="smoot").fit(np.zeros((4, 2)), [0, 0, 1, 1])
    with pytest.raises(DataError, match="one label per row"):
        SMOTEResampler().fit(np.zeros((4, 2)), [0, 1])
    with pytest.raises(DataError, match="smote:"):
        SMOTEResampler(k_neighbors=5).fit(np.random.default_rng(0).normal(size=(12, 2)), [0] * 10 + [1] * 2)
    with pytest.raises(DataError, match=r"ids have repeated values \(e.g. 'r1' at rows 1 and 3"):
        SMOTEResampler(k_neighbors=1).fit(np.random.default_rng(0).normal(size=(4, 2)), [0, 0, 1, 1],
                                          ids=["r0", "r1", "r2", "r1"])
