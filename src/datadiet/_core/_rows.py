"""Row-wise array helpers shared by the layers."""

from __future__ import annotations

from typing import Any

import numpy as np

from datadiet._core._errors import DataError

__all__ = ["first_nonfinite_row", "require_finite_rows", "unit_rows"]


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Scale the rows of a float array to unit L2 length, in place, and return it (zero rows stay zero).

    Examples
    --------
    >>> unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return x


def first_nonfinite_row(x: np.ndarray, block: int = 65536) -> int | None:
    """Position of the first row of ``x`` holding a NaN or an infinity, or None.

    Reads ``x`` in blocks of rows, so a memory-mapped array is never copied whole.

    Examples
    --------
    >>> first_nonfinite_row(np.array([[1.0, 2.0], [np.nan, 0.0], [np.inf, 1.0]]))
    1
    >>> first_nonfinite_row(np.zeros((3, 2))) is None
    True
    """
    for s in range(0, len(x), block):
        bad = np.flatnonzero(~np.isfinite(x[s:s + block]).all(axis=1))
        if bad.size:
            return s + int(bad[0])
    return None


def require_finite_rows(x: np.ndarray, ids: Any) -> None:
    """Raise :class:`DataError` naming the id of the first row of ``x`` holding a NaN or an infinity.

    Examples
    --------
    >>> import pyarrow as pa
    >>> require_finite_rows(np.array([[1.0], [np.inf]]), pa.array(["a", "b"]))
    Traceback (most recent call last):
    ...
    datadiet._core._errors.DataError: the vectors hold NaN or infinite values (id 'b' is the first); fix or drop those rows first
    """
    bad = first_nonfinite_row(x)
    if bad is not None:
        raise DataError(f"the vectors hold NaN or infinite values (id {ids[bad].as_py()!r} is the first); "
                        "fix or drop those rows first")
