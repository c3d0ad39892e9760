"""k-means with faiss: a sampled fit, then a batched assignment of every row.

The fit runs on at most ``max_train`` rows (default ``128 * k``), chosen by an
id-keyed hash when ``ids`` are given (the same rows whatever the order or
sharding) and by a seeded generator otherwise. Every row is then assigned to its
nearest centroid in batches, so an input memory-mapped from disk (``.npy``) is
never copied whole into memory.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from datadiet._core._errors import DataError, DataTypeError
from datadiet._core._seeds import derived_seed

__all__ = ["KMeansResult", "kmeans", "assign", "as_float32", "release_pages", "row_hashes"]

#: Rows per centroid used to fit when ``max_train`` is not given.
POINTS_PER_CENTROID = 128


@dataclass
class KMeansResult:
    """Centroids, the cluster of every row and the row's distance to it.

    ``distances`` are Euclidean distances, or ``1 - cosine`` when the clustering
    is spherical.
    """

    centroids: np.ndarray
    labels: np.ndarray
    distances: np.ndarray
    spherical: bool = False
    inertia: float = 0.0

    @property
    def k(self) -> int:
        return int(self.centroids.shape[0])

    def sizes(self) -> np.ndarray:
        """Number of rows in each cluster."""
        return np.bincount(self.labels, minlength=self.k)


#: Multiply-adds below which faiss runs on one thread: OpenMP start-up and spinning cost more
#: than they save on small problems, and far more on a busy machine. At 2e8 and up two threads
#: were faster on a quiet machine and no slower with both cores busy (facility location's
#: 2,000-row kNN graphs, 1.5e9 each: 0.06 s against 0.12 s quiet).
SMALL_WORK = 2e8


@contextmanager
def faiss_threads(work: float) -> Iterator[None]:
    """Run faiss single-threaded for small jobs (``work`` multiply-adds), restoring the setting after."""
    import faiss

    if work >= SMALL_WORK:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _check_vectors(vectors: Any, what: str = "vectors") -> np.ndarray:
    if not hasattr(vectors, "shape") or not hasattr(vectors, "dtype"):
        vectors = np.asarray(vectors)
    if vectors.ndim != 2:
        raise DataError(f"{what} must be a 2-D array (n, d), got shape {tuple(vectors.shape)}")
    if vectors.dtype.kind not in "fiu":
        raise DataTypeError(f"{what} must hold numbers, found dtype {vectors.dtype}")
    return vectors


def as_float32(block: np.ndarray, normalize: bool = False) -> np.ndarray:
    """A C-contiguous float32 copy of ``block``, optionally with unit rows (zero rows stay zero)."""
    x = np.array(block, dtype=np.float32, order="C", copy=True)
    if not np.isfinite(x).all():
        raise DataError("vectors contain NaN or infinite values; clean them before clustering")
    if normalize:
        _normalize_rows(x)
    return x


def _normalize_rows(x: np.ndarray) -> None:
    """Scale the rows of a float32 array to unit length in place (zero rows stay zero), no full-size temporary."""
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]
    np.divide(x, norms, out=x, where=norms > 0)


def release_pages(array: Any) -> None:
    """Drop the resident pages of a memory-mapped array (keeps peak memory bounded)."""
    mm = getattr(array, "_mmap", None)
    if mm is None:
        base = getattr(array, "base", None)
        mm = base if isinstance(base, mmap.mmap) else getattr(base, "_mmap", None)
    if isinstance(mm, mmap.mmap) and hasattr(mm, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
        try:
            mm.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError):
            pass


#: Rows hashed / gathered at once by :func:`row_hashes` and :func:`take_rows` (bounds their temporaries).
_ROW_BLOCK = 8192


def row_hashes(x: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each float32 row's exact bytes (equal rows, equal hashes).

    Works in blocks of rows, so the temporary 64-bit copy stays small whatever ``len(x)``.
    """
    n = x.shape[0]
    mult = np.random.default_rng(0x5EED).integers(1, 2**63, size=x.shape[1], dtype=np.uint64) | np.uint64(1)
    out = np.empty(n, dtype=np.uint64)
    for s in range(0, n, _ROW_BLOCK):
        bits = np.ascontiguousarray(x[s:s + _ROW_BLOCK], dtype=np.float32).view(np.uint32).astype(np.uint64)
        bits *= mult
        out[s:s + _ROW_BLOCK] = bits.sum(axis=1, dtype=np.uint64)
    return out


def take_rows(vectors: Any, rows: np.ndarray, dtype: Any = None) -> np.ndarray:
    """``vectors[rows]`` read in ascending row order (memory-map friendly), returned in ``rows`` order.

    Rows are gathered in blocks straight into the result (optionally cast to ``dtype``),
    so the only full-size array is the result itself.
    """
    rows = np.asarray(rows, dtype=np.int64)
    order = np.argsort(rows, kind="stable")
    out = np.empty((rows.size, *vectors.shape[1:]), dtype=vectors.dtype if dtype is None else dtype)
    for s in range(0, rows.size, _ROW_BLOCK):
        pos = order[s:s + _ROW_BLOCK]
        out[pos] = vectors[rows[pos]]
    return out


def _sample_rows(n: int, m: int, seed: int, ids: Any) -> np.ndarray:
    if ids is not None:
        from datadiet._core._hashing import uniform_keys

        keys = uniform_keys(ids, seed)
        if len(keys) != n:
            raise DataError(f"ids has {len(keys)} values but vectors has {n} rows")
        part = np.argpartition(keys, m - 1)[:m] if m < n else np.arange(n)
        return part[np.argsort(keys[part], kind="stable")]  # ordered by key: order-free fit
    if m >= n:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=m, replace=False))


def assign(vectors: Any, centroids: np.ndarray, *, spherical: bool = False,
           batch_size: int = 16384) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid of every row, in batches: ``(labels int64, distances float32)``.

    Examples
    --------
    >>> import numpy as np
    >>> lab, dist = assign(np.array([[0.0, 0], [9, 9]]), np.array([[10.0, 10], [0, 1]]))
    >>> lab.tolist(), [round(float(v), 2) for v in dist]
    ([1, 0], [1.0, 1.41])
    """
    import faiss

    vectors = _check_vectors(vectors)
    c = as_float32(centroids, normalize=spherical)
    index = faiss.IndexFlatIP(c.shape[1]) if spherical else faiss.IndexFlatL2(c.shape[1])
    index.add(c)
    n = vectors.shape[0]
    labels = np.empty(n, dtype=np.int64)
    dist = np.empty(n, dtype=np.float32)
    for start in range(0, n, batch_size):
        x = as_float32(vectors[start:start + batch_size], normalize=spherical)
        with faiss_threads(float(len(x)) * c.shape[0] * c.shape[1]):
            d, i = index.search(x, 1)
        labels[start:start + len(x)] = i[:, 0]
        dist[start:start + len(x)] = (1.0 - d[:, 0]) if spherical else np.sqrt(np.maximum(d[:, 0], 0))
        release_pages(vectors)
    if spherical:
        np.clip(dist, 0.0, 2.0, out=dist)
    return labels, dist


def kmeans(vectors: Any, k: int, *, spherical: bool = False, seed: int = 0, niter: int = 20,
           max_train: int | None = None, ids: Any = None, batch_size: int = 16384,
           restarts: int = 1) -> KMeansResult:
    """Cluster ``vectors`` into ``k`` groups with faiss.

    Parameters
    ----------
    vectors : array-like of shape (n, d)
        May be a memory-mapped array; it is read in batches of ``batch_size`` rows.
    k : int
        Number of clusters, ``1 <= k <= n``.
    spherical : bool, default False
        Cosine k-means: rows and centroids are L2-normalised and distances are ``1 - cos``.
    seed : int, default 0
        Seeds the training sample (when ``ids`` is not given) and faiss's initialisation.
    niter : int, default 20
        Lloyd iterations.
    max_train : int, optional
        Rows used to fit the centroids (default ``128 * k``, at most ``n``).
    ids : array-like, optional
        Row ids; when given, the training sample is the ``max_train`` rows with the
        smallest ``(seed, id)`` hash, so it does not depend on row order.
    batch_size : int, default 16384
        Rows per assignment batch (each batch is copied once as float32: 25 MB at 384-d).
    restarts : int, default 1
        Independent runs (the first with ``seed``, the others with seeds derived from it,
        each with its own training sample and initialisation); the run with the lowest
        inertia over all rows is returned. Few clusters on little data vary a lot between
        initialisations.

    Returns
    -------
    KMeansResult
        ``centroids`` (k, d) float32, ``labels`` (n,) int64, ``distances`` (n,) float32.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.r_[np.zeros((5, 2)), np.ones((5, 2)) * 10].astype("float32")
    >>> res = kmeans(x, 2, seed=0)
    >>> sorted(res.sizes().tolist())
    [5, 5]
    """
    import faiss

    vectors = _check_vectors(vectors)
    n, d = vectors.shape
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise DataTypeError(f"k must be an integer number of clusters; got {k!r}")
    if n == 0:
        raise DataError("vectors has no rows: nothing to cluster")
    if not 1 <= k <= n:
        raise DataError(f"k must be between 1 and the number of rows ({n}); got {k}")
    if isinstance(niter, bool) or not isinstance(niter, (int, np.integer)) or niter < 1:
        raise DataError(f"niter must be a positive integer; got {niter!r}")
    if max_train is None:
        max_train = POINTS_PER_CENTROID * int(k)
    if isinstance(max_train, bool) or not isinstance(max_train, (int, np.integer)) or max_train < k:
        raise DataError(f"max_train must be an integer >= k ({k}); got {max_train!r}")
    if d == 0:
        raise DataError("vectors have 0 dimensions")
    if isinstance(restarts, bool) or not isinstance(restarts, (int, np.integer)) or restarts < 1:
        raise DataError(f"restarts must be a positive integer; got {restarts!r}")
    if restarts > 1:
        runs = (kmeans(vectors, k, spherical=spherical, niter=niter, max_train=max_train, ids=ids,
                       batch_size=batch_size, seed=seed if r == 0 else derived_seed(seed, f"kmeans-restart-{r}"))
                for r in range(int(restarts)))
        return min(runs, key=lambda res: res.inertia)  # the first of equal inertias
    rows = _sample_rows(n, min(int(max_train), n), int(seed), ids)
    train = take_rows(vectors, rows, dtype=np.float32)  # the one full-size copy: normalised in place
    if not np.isfinite(train).all():
        raise DataError("vectors contain NaN or infinite values; clean them before clustering")
    if spherical:
        _normalize_rows(train)
    release_pages(vectors)
    # exact duplicates make faiss seed two centroids on one point; fit on distinct rows
    _, first = np.unique(row_hashes(train), return_index=True)
    if len(first) < len(train):
        train = train[np.sort(first)]  # keeps the first of each, in sample order
    if len(train) < k:
        raise DataError(f"k={k} is more than the {len(train)} distinct vectors available to fit; "
                         "lower k or pass max_train=None")
    km = faiss.Kmeans(d, int(k), niter=int(niter), seed=int(seed) % (2**31), spherical=spherical,
                      max_points_per_centroid=max(1, -(-len(train) // int(k))),
                      min_points_per_centroid=1, verbose=False)
    km.cp.init_method = faiss.ClusteringInitMethod_AFK_MC2
    with faiss_threads(float(len(train)) * int(k) * d * int(niter)):
        km.train(train)
    centroids = np.ascontiguousarray(km.centroids, dtype=np.float32).reshape(int(k), d)
    del train
    labels, dist = assign(vectors, centroids, spherical=spherical, batch_size=batch_size)
    inertia = float(np.square(dist.astype(np.float64)).sum()) if not spherical else float(dist.sum())
    return KMeansResult(centroids, labels, dist, spherical, inertia)
