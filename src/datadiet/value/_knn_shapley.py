"""Exact KNN-Shapley data values (Jia et al., 2019), batched over validation rows."""

from __future__ import annotations

from typing import Any

import numpy as np

from datadiet._core import Declared, Param
from datadiet._core._errors import DataError
from datadiet._core._seeds import tiebreak_keys
from datadiet.index._kmeans import _check_vectors, as_float32, faiss_threads
from datadiet.signals._table import encode_groups

__all__ = ["KNNShapley", "knn_shapley"]

#: Bytes of per-batch work arrays (about five ``batch x n`` arrays of 8 bytes).
_BATCH_BYTES = 256 * 1024**2


def _labels(y: Any, what: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise DataError(f"{what} must be one label per row (1-D); got shape {arr.shape}")
    return arr


def _prepare(x: np.ndarray, metric: str) -> np.ndarray:
    return as_float32(x, normalize=metric == "cosine")


def _distances(q: np.ndarray, base: np.ndarray, base_sq: np.ndarray | None) -> np.ndarray:
    """Distances that order like the metric: ``1 - cos`` (unit rows) or squared L2, clipped at 0."""
    d = q @ base.T
    if base_sq is None:
        d = 1.0 - d
    else:
        d = base_sq[None, :] - 2.0 * d + np.einsum("ij,ij->i", q, q)[:, None]
    return np.maximum(d, 0.0, out=d)


def _exact_batch(dist: np.ndarray, tb_hi: np.ndarray, match_sorted_fn: Any, k: int,
                 self_rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Sort every row of ``dist`` by (distance, tie-break) and run the closed-form recursion.

    Returns the sorted order (batch x n) and the values in that order (batch x n).
    """
    b, n = dist.shape
    key = (dist.astype(np.float32).view(np.uint32).astype(np.uint64) << np.uint64(32)) | tb_hi[None, :]
    if self_rows is not None:
        key[np.arange(b), self_rows] = np.iinfo(np.uint64).max  # the row itself sorts last, value 0
    order = np.argsort(key, axis=1)
    del key
    m = match_sorted_fn(order)  # (b, n) float64 in {0, 1}
    nn = n - 1 if self_rows is not None else n
    s = np.zeros((b, n))
    ranks = np.arange(1, nn, dtype=np.float64)
    c = np.minimum(k, ranks) / (k * ranks)
    s[:, nn - 1] = m[:, nn - 1] / max(nn, k)
    if nn > 1:
        d = (m[:, : nn - 1] - m[:, 1:nn]) * c[None, :]
        s[:, : nn - 1] = np.cumsum(d[:, ::-1], axis=1)[:, ::-1] + s[:, nn - 1 : nn]
    return order, s


def knn_shapley(x_train: Any, y_train: Any, x_val: Any = None, y_val: Any = None, *, k: int = 10,
                metric: str = "cosine", k_star: int | None = None, ids: Any = None,
                batch_size: int | None = None) -> np.ndarray:
    """KNN-Shapley value of every training row (mean over validation rows).

    With ``x_val=None`` every training row is a validation row for the others (leave
    itself out). ``k_star=None`` is exact (every validation row ranks every training
    row); ``k_star=T`` uses the ``T`` nearest neighbours from faiss and estimates the
    tail, with error at most ``1 / T`` per validation row. See :class:`KNNShapley`.
    """
    if metric not in ("cosine", "l2"):
        raise DataError(f"metric must be 'cosine' or 'l2'; got {metric!r}")
    xt = _prepare(_check_vectors(x_train, "X_train"), metric)
    yt_raw = _labels(y_train, "y_train")
    n = xt.shape[0]
    if len(yt_raw) != n:
        raise DataError(f"X_train has {n} rows but y_train has {len(yt_raw)} labels")
    self_mode = x_val is None
    if self_mode:
        if y_val is not None:
            raise DataError("y_val was given without X_val; give both, or neither to value rows against each other")
        xv, yv_raw = xt, yt_raw
        n_eff = n - 1
    else:
        if y_val is None:
            raise DataError("X_val was given without y_val; give the validation labels too")
        xv = _prepare(_check_vectors(x_val, "X_val"), metric)
        yv_raw = _labels(y_val, "y_val")
        if len(yv_raw) != xv.shape[0]:
            raise DataError(f"X_val has {xv.shape[0]} rows but y_val has {len(yv_raw)} labels")
        if xv.shape[1] != xt.shape[1]:
            raise DataError(f"X_val has {xv.shape[1]} dimensions but X_train has {xt.shape[1]}")
        n_eff = n
    if n_eff < 1:
        raise DataError("KNN-Shapley needs at least 2 training rows when they value each other")
    codes, names = encode_groups(np.concatenate([yt_raw.astype(str), yv_raw.astype(str)]))
    yt, yv = codes[:n], codes[n:]
    m_rows = xv.shape[0]
    if m_rows == 0:
        raise DataError("the validation set is empty")
    tb = tiebreak_keys(ids if ids is not None else np.arange(n, dtype=np.int64), 0)
    values = np.zeros(n)
    if k_star is None:
        tb_hi = tb >> np.uint64(32)
        base_sq = None if metric == "cosine" else np.einsum("ij,ij->i", xt, xt)
        b = batch_size or max(1, min(m_rows, _BATCH_BYTES // (48 * max(n, 1))))
        for start in range(0, m_rows, b):
            stop = min(m_rows, start + b)
            dist = _distances(xv[start:stop], xt, base_sq)
            yb = yv[start:stop]
            order, s = _exact_batch(dist, tb_hi, lambda o, yb=yb: (yt[o] == yb[:, None]).astype(np.float64), k,
                                    np.arange(start, stop) if self_mode else None)
            del dist
            values += np.bincount(order.ravel(), weights=s.ravel(), minlength=n)
        return values / m_rows
    return _truncated(xt, yt, xv, yv, k, metric, int(k_star), tb, self_mode, batch_size) / m_rows


def _truncated(xt: np.ndarray, yt: np.ndarray, xv: np.ndarray, yv: np.ndarray, k: int, metric: str, t: int,
               tb: np.ndarray, self_mode: bool, batch_size: int | None) -> np.ndarray:
    import faiss

    n, dim = xt.shape
    n_eff = n - 1 if self_mode else n
    t = min(t, n_eff)
    index = faiss.IndexFlatIP(dim) if metric == "cosine" else faiss.IndexFlatL2(dim)
    index.add(xt)
    class_count = np.bincount(yt, minlength=int(max(yt.max(), yv.max())) + 1)
    values = np.zeros(n)
    b = batch_size or 4096
    ranks = np.arange(1, t, dtype=np.float64)
    c = np.minimum(k, ranks) / (k * ranks)
    for start in range(0, xv.shape[0], b):
        q = xv[start:start + b]
        with faiss_threads(float(len(q)) * n * dim):
            d, idx = index.search(q, t + 1 if self_mode else t)
        if self_mode:
            own = np.arange(start, start + len(q))
            # drop the row itself (or, when it is not returned among ties, the farthest)
            is_self = idx == own[:, None]
            drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), idx.shape[1] - 1)
            keep = np.ones(idx.shape, dtype=bool)
            keep[np.arange(len(q)), drop] = False
            d = d[keep].reshape(len(q), t)
            idx = idx[keep].reshape(len(q), t)
        dist = -d if metric == "cosine" else d
        # ties among the returned neighbours are broken by the row's key, as in the exact mode
        o = np.lexsort((tb[idx], dist), axis=-1) if dist.ndim == 2 else None
        assert o is not None
        idx = np.take_along_axis(idx, o, axis=1)
        yb = yv[start:start + b]
        m = (yt[idx] == yb[:, None]).astype(np.float64)
        # the N - T rows beyond the list: their labels are known in bulk, not their ranks;
        # spread them evenly (sum over j > T of m_j / (j (j - 1)) with m_j replaced by its mean)
        rest = n_eff - t
        same_rest = class_count[yb] - m.sum(axis=1) - (0 if not self_mode else 1)
        p = np.divide(same_rest, rest, out=np.zeros(len(q)), where=rest > 0)
        tail = p * (1.0 / t - 1.0 / n_eff)
        s = np.empty_like(m)
        s[:, t - 1] = m[:, t - 1] / max(t, k) - tail
        if t > 1:
            dd = (m[:, : t - 1] - m[:, 1:]) * c[None, :]
            s[:, : t - 1] = np.cumsum(dd[:, ::-1], axis=1)[:, ::-1] + s[:, t - 1 : t]
        values += np.bincount(idx.ravel(), weights=s.ravel(), minlength=n)
    return values


class KNNShapley(Declared):
    """Exact KNN-Shapley values of training rows (Jia et al., 2019).

    The utility of a training subset ``S`` for one validation row is the share of
    its ``k`` nearest neighbours in ``S`` that carry the validation row's label.
    Its Shapley value has a closed form: sort the training rows by distance to the
    validation row, ``s_N = 1[y_N = y] / max(N, k)`` and
    ``s_i = s_{i+1} + (1[y_i = y] - 1[y_{i+1} = y]) / k * min(k, i) / i``.
    ``values_`` is the mean over the validation rows. Negative values mark rows
    whose label disagrees with their neighbourhood (likely label errors).

    Exact mode (``k_star=None``) ranks every training row for every validation row:
    ``O(m n log n)`` time for ``m`` validation rows, memory bounded by processing
    validation rows in batches (about 256 MB of work arrays whatever ``n``).
    ``k_star=T`` takes the ``T`` nearest neighbours from a faiss index instead, gives
    the rows beyond them value 0 and estimates their effect on the others from their
    label counts: every value is then within ``1 / T`` of the exact one.

    With ``X_val=None`` every training row serves as a validation row for the
    others (leaving itself out), so no holdout set is needed.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 1.0], [0.1, 1.0], [1.0, 0.0], [1.0, 0.1], [0.05, 1.0]])
    >>> y = np.array([0, 0, 1, 1, 1])           # the last row carries the wrong label
    >>> v = KNNShapley(k=1).fit(X, y, X[:4], y[:4]).values_
    >>> int(np.argmin(v))
    4
    """

    params = (
        Param("k", "int", 10, "neighbours of the KNN classifier whose accuracy is valued", low=1),
        Param("metric", "choice", "cosine", "distance between vectors", choices=("cosine", "l2")),
        Param("k_star", "int", None, "None: exact; T: only the T nearest neighbours per validation row "
              "(faiss), every value within 1/T of the exact one", low=1, none=True),
        Param("batch_size", "int", None, "validation rows per batch (None: fit about 256 MB of work arrays)",
              low=1, none=True),
    )

    def _check_params(self) -> None:
        from datadiet._core import ParamError

        if self.k_star is not None and self.k_star < self.k:
            raise ParamError("k_star", f"None or at least k ({self.k})", self.k_star, type(self).__name__)

    def fit(self, X_train: Any, y_train: Any, X_val: Any = None, y_val: Any = None, *,
            ids: Any = None) -> KNNShapley:
        """Value every row of ``X_train``; sets ``values_`` (one float per training row).

        ``ids`` (optional) break distance ties by id instead of by row position.
        """
        self.validate_params()
        self.values_ = knn_shapley(X_train, y_train, X_val, y_val, k=self.k, metric=self.metric,
                                   k_star=self.k_star, ids=ids, batch_size=self.batch_size)
        return self
