"""Vectorised, machine-independent 64-bit hashing of ids, keyed by a seed.

Every random decision in datadiet is a function of ``(seed, id)``: a row's
sampling key does not depend on where the row sits, which shard it came from,
how the data was batched, or which engine ran. Integer ids are mixed with
SplitMix64; string and binary ids are reduced to 64 bits with a polynomial hash
over their UTF-8 bytes (computed with one cumulative sum, no Python loop per
row) and then mixed the same way.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from datadiet._core._errors import DataError, DataTypeError

__all__ = ["as_arrow", "hash_ids", "uniform_keys", "splitmix64"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_POLY = np.uint64(0x100000001B3)  # odd multiplier of the byte polynomial
_powers = np.ones(1, dtype=np.uint64)


def splitmix64(x: np.ndarray, *, inplace: bool = False) -> np.ndarray:
    """Finaliser of SplitMix64, applied element-wise (wrapping uint64 arithmetic).

    ``inplace=True`` overwrites ``x`` (a uint64 array the caller owns) and needs one
    temporary instead of six: for the hot loops of MinHash.

    Examples
    --------
    >>> x = np.arange(3, dtype=np.uint64)
    >>> bool((splitmix64(x) == splitmix64(x.copy(), inplace=True)).all())
    True
    """
    if not inplace:
        z = np.asarray(x, dtype=np.uint64) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))
    x += _GOLDEN
    t = np.empty_like(x)
    for shift, mul in ((30, _M1), (27, _M2)):
        np.right_shift(x, np.uint64(shift), out=t)
        x ^= t
        x *= mul
    np.right_shift(x, np.uint64(31), out=t)
    x ^= t
    return x


def _poly_powers(n: int) -> np.ndarray:
    global _powers
    table = _powers  # one read: another thread may swap in a new table meanwhile
    if table.size < n:
        size = max(n, 2 * table.size)
        steps = np.full(size, _POLY, dtype=np.uint64)
        steps[0] = 1
        table = np.cumprod(steps, dtype=np.uint64)
        _powers = table
    return table[:n]


def _hash_binary(arr: pa.Array) -> np.ndarray:
    arr = arr.cast(pa.large_binary())
    if arr.null_count:
        raise DataError(f"{arr.null_count} ids are empty (null); give every example an id")
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    base = int(offsets[0]) if len(offsets) else 0
    starts = offsets[:-1] - base
    lengths = np.diff(offsets)
    total = int(offsets[-1] - base) if len(offsets) else 0
    data = (
        np.frombuffer(bufs[2], dtype=np.uint8)[base : base + total]
        if bufs[2] is not None
        else np.zeros(0, np.uint8)
    )
    pos = np.arange(total, dtype=np.int64) - np.repeat(starts, lengths)
    contrib = (data.astype(np.uint64) + np.uint64(1)) * _poly_powers(int(lengths.max(initial=0)) + 1)[pos]
    csum = np.zeros(total + 1, dtype=np.uint64)
    np.cumsum(contrib, dtype=np.uint64, out=csum[1:])
    h = csum[starts + lengths] - csum[starts]
    return h ^ (lengths.astype(np.uint64) * _M2)


def as_arrow(ids: object) -> pa.Array:
    """Ids as one pyarrow array: integers as int64, anything else as pyarrow infers it."""
    if isinstance(ids, pa.ChunkedArray):
        return ids.combine_chunks() if ids.num_chunks != 1 else ids.chunk(0)
    if isinstance(ids, pa.Array):
        return ids
    arr = np.asarray(ids)
    if arr.dtype.kind in "iu":
        return pa.array(arr.astype(np.int64, copy=False))
    return pa.array(arr.tolist() if arr.dtype == object else arr)


def hash_ids(ids: object, seed: int = 0) -> np.ndarray:
    """Hash ids to uint64, keyed by ``seed``.

    Parameters
    ----------
    ids : array-like of int or str, pyarrow Array or ChunkedArray
        Row ids. Integer ids and string ids hash differently (``5`` is not ``"5"``).
    seed : int
        Key of the hash; different seeds give independent hashes.

    Returns
    -------
    numpy.ndarray of uint64, one hash per id.

    Examples
    --------
    >>> h = hash_ids(["a", "b"], seed=1)
    >>> bool(h[0] == hash_ids(["b", "a"], seed=1)[1])
    True
    """
    arr = as_arrow(ids)
    t = arr.type
    if pa.types.is_integer(t):
        if arr.null_count:
            raise DataError(f"{arr.null_count} ids are empty (null); give every example an id")
        base = arr.to_numpy(zero_copy_only=False).astype(np.int64).view(np.uint64)
    elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
        base = _hash_binary(arr)
    elif pa.types.is_dictionary(t):
        return hash_ids(arr.dictionary_decode(), seed)
    else:
        raise DataTypeError(f"ids must be integers or strings, got {t}")
    key = splitmix64(np.array([int(seed) & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0]
    return splitmix64(base ^ key)


def uniform_keys(ids: object, seed: int = 0) -> np.ndarray:
    """Uniform(0, 1) floats (open interval), one per id, keyed by ``(seed, id)``.

    Examples
    --------
    >>> u = uniform_keys([1, 2, 3], seed=0)
    >>> bool(((u > 0) & (u < 1)).all())
    True
    """
    h = hash_ids(ids, seed)
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)
