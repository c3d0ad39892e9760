"""k-means: recovery, order-free fit with ids, memory-mapped input, spherical distances, bad input."""

import numpy as np
import pytest

from datadiet._core import derived_seed
from datadiet.index import assign, kmeans


def _blobs(n_per=200, k=5, d=16, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d)) * 10
    x = np.concatenate([c + rng.normal(size=(n_per, d)) for c in centers]).astype(np.float32)
    y = np.repeat(np.arange(k), n_per)
    return x, y


def test_recovers_separated_blobs():
    x, y = _blobs()
    res = kmeans(x, 5, seed=1)
    assert res.centroids.shape == (5, 16) and res.centroids.dtype == np.float32
    assert res.labels.dtype == np.int64 and res.distances.dtype == np.float32
    # each true blob maps to exactly one cluster
    pairs = {(a, b) for a, b in zip(y.tolist(), res.labels.tolist(), strict=True)}
    assert len(pairs) == 5 and sorted(res.sizes().tolist()) == [200] * 5


def test_labels_are_nearest_centroid_and_distances_match():
    x, _ = _blobs(seed=3)
    res = kmeans(x, 7, seed=0, max_train=300)
    d2 = ((x[:, None, :] - res.centroids[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(res.labels, d2.argmin(1))
    np.testing.assert_allclose(res.distances, np.sqrt(d2.min(1)), rtol=1e-4, atol=1e-3)


def test_spherical_distances_are_one_minus_cosine():
    x, _ = _blobs(d=8, seed=2)
    res = kmeans(x, 4, spherical=True, seed=0)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    np.testing.assert_allclose(np.linalg.norm(res.centroids, axis=1), 1.0, rtol=1e-5)
    cos = xn @ res.centroids.T
    np.testing.assert_array_equal(res.labels, cos.argmax(1))
    np.testing.assert_allclose(res.distances, 1 - cos.max(1), atol=1e-5)
    assert res.distances.min() >= 0 and res.distances.max() <= 2


def test_deterministic_and_order_free_with_ids():
    x, _ = _blobs(seed=4)
    ids = np.arange(len(x)) * 7 + 3
    a = kmeans(x, 6, seed=5, ids=ids, max_train=400)
    b = kmeans(x, 6, seed=5, ids=ids, max_train=400)
    np.testing.assert_array_equal(a.centroids, b.centroids)
    perm = np.random.default_rng(0).permutation(len(x))
    c = kmeans(x[perm], 6, seed=5, ids=ids[perm], max_train=400)
    np.testing.assert_allclose(c.centroids, a.centroids, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(c.labels, a.labels[perm])
    d = kmeans(x, 6, seed=6, ids=ids, max_train=400)
    assert not np.array_equal(d.centroids, a.centroids)


def test_memory_mapped_input_in_small_batches(tmp_path):
    x, _ = _blobs(seed=6)
    np.save(tmp_path / "x.npy", x)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    a = kmeans(x, 5, seed=0)
    b = kmeans(mm, 5, seed=0, batch_size=37)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_allclose(a.distances, b.distances, rtol=1e-6)
    lab, _ = assign(mm, a.centroids, batch_size=100)
    np.testing.assert_array_equal(lab, a.labels)


def test_restarts_keep_the_run_with_the_lowest_inertia():
    x, _ = _blobs(n_per=60, k=12, d=8, seed=7)  # more blobs than clusters: initialisations disagree
    best = kmeans(x, 6, seed=2, restarts=6)
    runs = [kmeans(x, 6, seed=2 if r == 0 else derived_seed(2, f"kmeans-restart-{r}")) for r in range(6)]
    inertias = [r.inertia for r in runs]
    assert inertias[0] > min(inertias)  # the first run is not the best: the choice matters
    assert best.inertia == min(inertias)
    np.testing.assert_array_equal(best.labels, runs[int(np.argmin(inertias))].labels)
    np.testing.assert_array_equal(kmeans(x, 6, seed=2, restarts=1).labels, runs[0].labels)


def test_exact_duplicates_do_not_collapse_clusters():
    x = np.r_[np.zeros((50, 3)), np.full((50, 3), 10.0), np.tile([0, 10.0, 0], (50, 1))]
    for seed in range(5):
        assert sorted(kmeans(x, 3, seed=seed).sizes().tolist()) == [50, 50, 50]


@pytest.mark.parametrize("kw, err", [
    ({"k": 0}, "k must be between 1"),
    ({"k": 101}, "k must be between 1"),
    ({"k": 2.5}, "k must be an integer"),
    ({"k": 2, "niter": 0}, "niter"),
    ({"k": 5, "max_train": 3}, "max_train"),
    ({"k": 2, "restarts": 0}, "restarts"),
    ({"k": 2, "restarts": True}, "restarts"),
])
def test_bad_parameters(kw, err):
    x, _ = _blobs(n_per=20)
    with pytest.raises((ValueError, TypeError), match=err):
        kmeans(x, **kw)


def test_bad_vectors():
    with pytest.raises(ValueError, match="2-D"):
        kmeans(np.zeros(5), 2)
    x = np.ones((10, 2))
    x[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        kmeans(x, 2)
    with pytest.raises(ValueError, match="distinct"):
        kmeans(np.ones((10, 2)), 3)
    with pytest.raises(ValueError, match="no rows"):
        kmeans(np.zeros((0, 4)), 1)


def test_own_memory_stays_near_the_training_sample(tmp_path):
    """On a memory-mapped input, k-means allocates about one training sample plus one batch, never a copy
    of the input (numpy allocations traced; the input is 20x the training sample)."""
    import tracemalloc

    rng = np.random.default_rng(0)
    n, d, k = 200_000, 64, 20
    x = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float32, shape=(n, d))
    centers = rng.normal(size=(k, d)).astype(np.float32) * 4
    for s in range(0, n, 50_000):
        x[s:s + 50_000] = centers[rng.integers(0, k, 50_000)] + rng.normal(size=(50_000, d)).astype(np.float32)
    x.flush()
    del x
    x = np.load(tmp_path / "x.npy", mmap_mode="r")
    input_mb = n * d * 4 / 2**20
    train_mb = 128 * k * d * 4 / 2**20
    tracemalloc.start()
    res = kmeans(x, k, spherical=True, seed=0)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    assert res.labels.shape == (n,) and (res.sizes() > 0).all()
    # labels (int64) + distances (float32) + one 16,384-row batch + the sample and its hashes
    budget = n * 12 / 2**20 + 16384 * d * 4 * 2 / 2**20 + 3 * train_mb + 2
    assert peak < budget < input_mb / 2, (peak, budget, input_mb)


def test_take_rows_and_row_hashes_in_blocks():
    from datadiet.index._kmeans import row_hashes, take_rows

    rng = np.random.default_rng(1)
    x = rng.normal(size=(20_000, 8)).astype(np.float32)
    rows = rng.choice(20_000, size=17_000, replace=False)
    np.testing.assert_array_equal(take_rows(x, rows), x[rows])
    assert take_rows(x.astype(np.float64), rows, dtype=np.float32).dtype == np.float32
    h = row_hashes(x)
    x2 = x.copy()
    x2[12_345, 3] += 1.0
    h2 = row_hashes(x2)
    assert (h == h2).sum() == len(x) - 1 and h[12_345] != h2[12_345]
    assert np.unique(h).size == len(x)
