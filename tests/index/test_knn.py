"""Exact kNN with faiss against a brute-force numpy reference."""

import numpy as np
import pytest

from datadiet.index import knn


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(300, 12)).astype(np.float32), rng.normal(size=(40, 12)).astype(np.float32)


def test_l2_matches_brute_force(data):
    base, q = data
    d, i = knn(q, base, 5, metric="l2", batch_size=7)
    full = np.sqrt(((q[:, None] - base[None]) ** 2).sum(-1))
    ref = np.argsort(full, axis=1)[:, :5]
    np.testing.assert_array_equal(i, ref)
    np.testing.assert_allclose(d, np.take_along_axis(full, ref, 1), rtol=1e-4, atol=1e-4)


def test_cosine_matches_brute_force(data):
    base, q = data
    d, i = knn(q, base * 3.0, 4)
    bn = base / np.linalg.norm(base, axis=1, keepdims=True)
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    sim = qn @ bn.T
    ref = np.argsort(-sim, axis=1)[:, :4]
    np.testing.assert_array_equal(i, ref)
    np.testing.assert_allclose(d, 1 - np.take_along_axis(sim, ref, 1), atol=1e-5)


def test_exclude_self(data):
    base, _ = data
    d, i = knn(base, base, 3, metric="l2", exclude_self=True)
    assert not (i == np.arange(len(base))[:, None]).any()
    full = np.sqrt(((base[:, None] - base[None]) ** 2).sum(-1))
    np.fill_diagonal(full, np.inf)
    np.testing.assert_array_equal(i, np.argsort(full, axis=1)[:, :3])


def test_bad_input(data):
    base, q = data
    with pytest.raises(ValueError, match="metric"):
        knn(q, base, 2, metric="dot")
    with pytest.raises(ValueError, match="k must be between 1 and 300"):
        knn(q, base, 301)
    with pytest.raises(ValueError, match="dimensions"):
        knn(q[:, :5], base, 2)
    with pytest.raises(ValueError, match="exclude_self"):
        knn(q, base, 2, exclude_self=True)
