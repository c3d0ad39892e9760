"""Exact k-nearest neighbours with faiss, queried in batches."""

from __future__ import annotations

from typing import Any

import numpy as np

from datadiet._core._errors import DataError, DataTypeError
from datadiet.index._kmeans import _check_vectors, as_float32, faiss_threads, release_pages

__all__ = ["knn", "METRICS"]

METRICS = ("cosine", "l2")


def knn(query: Any, base: Any, k: int, *, metric: str = "cosine", batch_size: int = 16384,
        exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest rows of ``base`` for every row of ``query``.

    Parameters
    ----------
    query : array-like of shape (m, d)
    base : array-like of shape (n, d)
    k : int
        Neighbours per query, ``1 <= k <= n`` (``n - 1`` with ``exclude_self``).
    metric : {"cosine", "l2"}, default "cosine"
        ``cosine`` returns ``1 - cos`` (rows are normalised first); ``l2`` returns
        Euclidean distances.
    batch_size : int, default 16384
        Query rows per faiss search.
    exclude_self : bool, default False
        ``query`` is ``base``: drop each row from its own neighbour list.

    Returns
    -------
    distances : ndarray (m, k) float32, ascending per row
    indices : ndarray (m, k) int64, rows of ``base``

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0, 0], [1, 0], [5, 0]])
    >>> d, i = knn(x, x, 2, metric="l2")
    >>> i.tolist(), d.tolist()
    ([[0, 1], [1, 0], [2, 1]], [[0.0, 1.0], [0.0, 1.0], [0.0, 4.0]])
    """
    import faiss

    if metric not in METRICS:
        raise DataError(f"metric must be one of {', '.join(map(repr, METRICS))}; got {metric!r}")
    query = _check_vectors(query, "query")
    base = _check_vectors(base, "base")
    if query.shape[1] != base.shape[1]:
        raise DataError(f"query has {query.shape[1]} dimensions but base has {base.shape[1]}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise DataTypeError(f"k must be an integer; got {k!r}")
    n = base.shape[0]
    limit = n - 1 if exclude_self else n
    if not 1 <= k <= limit:
        raise DataError(f"k must be between 1 and {limit} (rows of base{' minus self' if exclude_self else ''}); "
                         f"got {k}")
    if exclude_self and query.shape[0] != n:
        raise DataError("exclude_self needs query to be base (same rows)")
    cos = metric == "cosine"
    index = faiss.IndexFlatIP(base.shape[1]) if cos else faiss.IndexFlatL2(base.shape[1])
    for start in range(0, n, 65536):
        index.add(as_float32(base[start:start + 65536], normalize=cos))
    release_pages(base)
    m = query.shape[0]
    kk = k + 1 if exclude_self else k
    dist = np.empty((m, k), dtype=np.float32)
    idx = np.empty((m, k), dtype=np.int64)
    for start in range(0, m, batch_size):
        x = as_float32(query[start:start + batch_size], normalize=cos)
        with faiss_threads(float(len(x)) * n * base.shape[1]):
            d, i = index.search(x, kk)
        d = (1.0 - d) if cos else np.sqrt(np.maximum(d, 0))
        if exclude_self:
            rows = np.arange(start, start + len(x))[:, None]
            is_self = i == rows
            # drop self where found, else the last (farthest) column
            drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), kk - 1)
            keep = np.ones_like(is_self)
            keep[np.arange(len(x)), drop] = False
            d = d[keep].reshape(len(x), k)
            i = i[keep].reshape(len(x), k)
        dist[start:start + len(x)] = d
        idx[start:start + len(x)] = i
        release_pages(query)
    if cos:
        np.clip(dist, 0.0, 2.0, out=dist)
    return dist, idx
