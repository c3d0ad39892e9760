"""Locality-sensitive hashing of MinHash signatures, and connected components.

Two documents of Jaccard similarity ``s`` share at least one band of ``r``
signature rows out of ``b`` bands with probability ``1 - (1 - s**r)**b``. The
bands and rows are chosen from the threshold ``t`` and the number of
permutations by minimising ``fp_weight * FP + fn_weight * FN`` where
``FP = integral_0^t P(s) ds`` and ``FN = integral_t^1 (1 - P(s)) ds`` (the rule of
datasketch's ``MinHashLSH``).

Candidate pairs come from sorting each band's hashes: the rows of one bucket
are linked to the bucket's preferred row (lowest keep rank), so a bucket of
``m`` rows gives ``m - 1`` links, never ``m**2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from datadiet._core._errors import DataError
from datadiet._core._hashing import splitmix64

__all__ = ["LSHParams", "choose_bands", "band_buckets", "band_keys", "band_links", "components", "group_links", "signature_hash"]

_R = np.random.default_rng(0xBA4D).integers(1, 2**63, size=4096, dtype=np.uint64) | np.uint64(1)


def _prob(s: np.ndarray, b: np.ndarray | int, r: np.ndarray | int) -> np.ndarray:
    return 1.0 - (1.0 - s ** r) ** b


@dataclass(frozen=True)
class LSHParams:
    """Bands and rows of an LSH index, with their false-positive / false-negative areas."""

    threshold: float
    num_perm: int
    bands: int
    rows: int
    false_positive: float
    false_negative: float

    def probability(self, similarity: float | np.ndarray) -> np.ndarray:
        """Probability that two documents of this Jaccard similarity become candidates."""
        return _prob(np.asarray(similarity, dtype=np.float64), self.bands, self.rows)

    def tradeoff(self) -> str:
        """A printable account of the choice: the FP / FN areas and P(candidate) at some similarities.

        Examples
        --------
        >>> print(choose_bands(0.8, 128).tradeoff().splitlines()[0])
        LSH for Jaccard >= 0.8 with 128 permutations: 9 bands x 13 rows (117 used)
        """
        t = self.threshold
        sims = sorted({round(x, 2) for x in (t - 0.3, t - 0.2, t - 0.1, t - 0.05, t, t + 0.05, t + 0.1)
                       if 0.0 < x < 1.0} | {t})
        p = self.probability(np.array(sims))
        lines = [
            f"LSH for Jaccard >= {t:g} with {self.num_perm} permutations: {self.bands} bands x "
            f"{self.rows} rows ({self.bands * self.rows} used)",
            f"  false-positive area {self.false_positive:.4f} (pairs below {t:g} that become candidates), "
            f"false-negative area {self.false_negative:.4f} (pairs above {t:g} that are missed)",
            "  P(candidate) at Jaccard " + ", ".join(f"{s:.2f}: {q:.3f}" for s, q in zip(sims, p, strict=False)),
        ]
        return "\n".join(lines)


def _areas(threshold: float, b: np.ndarray, r: np.ndarray, steps: int = 2001) -> tuple[np.ndarray, np.ndarray]:
    lo = np.linspace(0.0, threshold, steps)
    hi = np.linspace(threshold, 1.0, steps)
    fp = np.trapezoid(_prob(lo[None, :], b[:, None], r[:, None]), lo, axis=1)
    fn = np.trapezoid(1.0 - _prob(hi[None, :], b[:, None], r[:, None]), hi, axis=1)
    return np.asarray(fp), np.asarray(fn)


def choose_bands(threshold: float, num_perm: int, *, fp_weight: float = 0.5, fn_weight: float = 0.5,
                 bands: int | None = None, rows: int | None = None) -> LSHParams:
    """Bands and rows for a Jaccard threshold, minimising the weighted FP / FN areas.

    Give ``bands`` and ``rows`` to fix them (their areas are still reported).

    Examples
    --------
    >>> p = choose_bands(0.8, 128)
    >>> (p.bands, p.rows)
    (9, 13)
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating)) \
            or not 0.0 < float(threshold) < 1.0:
        raise DataError(f"the Jaccard threshold must be a number between 0 and 1 (exclusive); got {threshold!r}")
    for name, w in (("fp_weight", fp_weight), ("fn_weight", fn_weight)):
        if isinstance(w, bool) or not isinstance(w, (int, float, np.floating)) or w < 0:
            raise DataError(f"{name} must be a number >= 0; got {w!r}")
    if fp_weight + fn_weight <= 0:
        raise DataError("fp_weight and fn_weight cannot both be 0")
    if (bands is None) != (rows is None):
        raise DataError("give both bands and rows, or neither (they are then chosen from the threshold)")
    if bands is not None:
        for name, v in (("bands", bands), ("rows", rows)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise DataError(f"{name} must be a positive integer; got {v!r}")
        if bands * rows > num_perm:  # type: ignore[operator]
            raise DataError(f"bands x rows = {bands * rows} is more than num_perm={num_perm}; "  # type: ignore[operator]
                             "lower them or raise num_perm")
    return _choose(float(threshold), int(num_perm), float(fp_weight), float(fn_weight),
                   None if bands is None else int(bands), None if rows is None else int(rows))


@lru_cache(maxsize=64)
def _choose(threshold: float, num_perm: int, fp_weight: float, fn_weight: float, bands: int | None,
            rows: int | None) -> LSHParams:
    # the areas of every (bands, rows) take ~0.1 s at 128 permutations: computed once per setting
    if bands is not None:
        b_arr, r_arr = np.array([bands]), np.array([rows])
    else:
        pairs = [(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)]
        b_arr = np.array([p[0] for p in pairs])
        r_arr = np.array([p[1] for p in pairs])
    fp, fn = _areas(threshold, b_arr, r_arr)
    best = int(np.argmin(fp * fp_weight + fn * fn_weight))
    return LSHParams(threshold, num_perm, int(b_arr[best]), int(r_arr[best]), float(fp[best]), float(fn[best]))


KEY_CHUNK = 4096  # signature rows hashed at once: their uint64 copy (~4 MB at 117 columns) stays in cache


def band_keys(signatures: np.ndarray, rows_idx: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit bucket key per band for each of the given signature rows: ``(len(rows_idx), bands)``.

    The key of band ``j`` is ``splitmix64(sum_i sig[i] * R_i ^ j)`` over its ``rows`` columns
    (``R`` fixed odd multipliers); all bands of a chunk of rows are hashed in one pass.

    Examples
    --------
    >>> sig = np.array([[1, 2, 3, 4], [1, 2, 9, 9], [1, 2, 3, 4]], dtype=np.uint32)
    >>> k = band_keys(sig, np.arange(3), bands=2, rows=2)
    >>> k.shape, bool(k[0, 0] == k[1, 0]), bool(k[0, 1] == k[1, 1]), bool((k[0] == k[2]).all())
    ((3, 2), True, False, True)
    """
    m, width = rows_idx.size, bands * rows
    mix = np.tile(_R[:rows], bands)
    band = np.arange(bands, dtype=np.uint64)
    out = np.empty((bands, m), dtype=np.uint64)  # band-major: each band's keys are contiguous for sorting
    for lo in range(0, m, KEY_CHUNK):
        block = signatures[rows_idx[lo:lo + KEY_CHUNK], :width].astype(np.uint64)
        block *= mix
        key = block.reshape(-1, bands, rows).sum(axis=2, dtype=np.uint64)
        key ^= band
        out[:, lo:lo + KEY_CHUNK] = key.T
    return splitmix64(out, inplace=True).T


def band_buckets(signatures: np.ndarray, rows_idx: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """The shared LSH bucket of every signature row in every band: ``(bands, len(signatures))`` int32.

    Buckets holding two or more of ``rows_idx`` are numbered from 0 in each band; a row
    alone in its bucket, or not among ``rows_idx``, gets -1 (later rounds only remove
    rows, so a lone row never gains a link).

    Examples
    --------
    >>> sig = np.array([[1, 2, 3, 4], [1, 2, 9, 9], [1, 2, 3, 4]], dtype=np.uint32)
    >>> band_buckets(sig, np.arange(3), bands=2, rows=2).tolist()
    [[0, 0, 0], [0, -1, 0]]
    """
    m = rows_idx.size
    out = np.full((bands, signatures.shape[0]), -1, dtype=np.int32)
    if m < 2:
        return out
    keys = band_keys(signatures, rows_idx, bands, rows)
    for j in range(bands):
        order = np.argsort(keys[:, j])
        ks = keys[order, j]
        same = ks[1:] == ks[:-1]
        if not same.any():
            continue
        shared = np.zeros(m, dtype=bool)
        shared[1:] = same
        shared[:-1] |= same
        ks = ks[shared]
        new = np.empty(ks.size, dtype=bool)
        new[0] = True
        np.not_equal(ks[1:], ks[:-1], out=new[1:])
        out[j, rows_idx[order[shared]]] = np.cumsum(new) - 1
    return out


def band_links(buckets: np.ndarray, rows_idx: np.ndarray, rank: np.ndarray, *,
               changed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Links ``(row, bucket head)`` for every shared LSH bucket of the given rows.

    ``buckets`` come from :func:`band_buckets` over a superset of ``rows_idx``;
    ``rank`` (aligned with the signatures) orders rows within a bucket, the lowest
    becoming its head. ``changed`` (signature rows no longer among ``rows_idx``)
    restricts each band to the buckets that held one of them, the only buckets whose
    links can differ from an earlier call over a superset of ``rows_idx``.
    Returns unique pairs of row positions ``(a, b)`` with ``a != b``.

    Examples
    --------
    >>> sig = np.array([[1, 2, 3, 4], [1, 2, 9, 9], [1, 2, 3, 4]], dtype=np.uint32)
    >>> a, b = band_links(band_buckets(sig, np.arange(3), 2, 2), np.arange(3), np.array([2, 0, 1]))
    >>> sorted(zip(a.tolist(), b.tolist()))
    [(0, 1), (0, 2), (2, 1)]
    """
    out_a, out_b = [], []
    for band in buckets:
        ids = band[rows_idx]
        keep = ids >= 0
        if changed is not None:
            lost = band[changed]
            lost = lost[lost >= 0]
            if not lost.size:
                continue
            hit = np.zeros(int(band.max()) + 1, dtype=bool)
            hit[lost] = True
            keep[keep] = hit[ids[keep]]
        idx, ids = rows_idx[keep], ids[keep]
        if idx.size < 2:
            continue
        order = np.lexsort((rank[idx], ids))
        idx, ids = idx[order], ids[order]
        new = np.empty(idx.size, dtype=bool)
        new[0] = True
        np.not_equal(ids[1:], ids[:-1], out=new[1:])
        head = np.maximum.accumulate(np.where(new, np.arange(idx.size), 0))
        out_a.append(idx[~new])
        out_b.append(idx[head[~new]])
    if not out_a:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a = np.concatenate(out_a).astype(np.int64)
    b = np.concatenate(out_b).astype(np.int64)
    n = int(buckets.shape[1])
    code = np.unique(a * n + b)
    return code // n, code % n


def signature_hash(signatures: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each signature row: equal rows, equal hashes (unequal: a 2**-64 chance).

    Lets the streamed path test "identical signatures" without holding the signatures.
    """
    sig = np.asarray(signatures)
    p = sig.shape[1]
    acc = np.zeros(sig.shape[0], dtype=np.uint64)
    for lo in range(0, p, 32):
        block = sig[:, lo:lo + 32].astype(np.uint64)
        block *= _R[lo:lo + block.shape[1]] if p <= 4096 else _R[(np.arange(lo, lo + block.shape[1])) % 4096]
        acc += block.sum(axis=1, dtype=np.uint64)
    return splitmix64(acc ^ np.uint64(p))


def _group_starts(k1: np.ndarray, k2: np.ndarray) -> np.ndarray:
    """``True`` where a run of equal ``(k1, k2)`` begins in key-sorted (non-empty) arrays."""
    new = np.empty(k1.size, dtype=bool)
    new[0] = True
    new[1:] = (k1[1:] != k1[:-1]) | (k2[1:] != k2[:-1])
    return new


def group_links(k1: np.ndarray, k2: np.ndarray, rows: np.ndarray, rank: np.ndarray | None = None,
                changed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Links ``(member, head)`` of the groups of equal keys ``(k1, k2)`` among ``rows``.

    The head of a group is its lowest-``rank`` row (``rank`` indexed by row; ``None``:
    the row itself). With ``changed`` (a boolean mask indexed by row), only groups
    holding a changed row give links, and the changed rows (dropped by the previous
    round, so no longer active) are left out of them. This is :func:`band_links`'s bucketing for one
    partition of ``(band, key, row)`` (or ``(exact key high, low, row)``) entries: the
    same links, whatever the partitioning, once the partitions' links are joined.

    Examples
    --------
    >>> a, b = group_links(np.array([0, 0, 0, 1]), np.array([7, 5, 7, 7]), np.array([4, 1, 2, 3]))
    >>> a.tolist(), b.tolist()
    ([4], [2])
    """
    if changed is not None and rows.size:
        # the groups holding a changed row; the changed rows themselves (no longer active) take no part
        order = np.lexsort((k2, k1))
        k1, k2, rows = k1[order], k2[order], rows[order]
        gid = np.cumsum(_group_starts(k1, k2)) - 1
        ch = changed[rows]
        hit = np.zeros(int(gid[-1]) + 1, dtype=bool)
        hit[gid[ch]] = True
        keep = hit[gid] & ~ch
        k1, k2, rows = k1[keep], k2[keep], rows[keep]
    if rows.size < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    r = rows if rank is None else rank[rows]
    order = np.lexsort((r, k2, k1))
    rs = rows[order]
    new = _group_starts(k1[order], k2[order])
    start = np.maximum.accumulate(np.where(new, np.arange(rs.size), 0))
    member = ~new
    return rs[member].astype(np.int64), rs[start[member]].astype(np.int64)


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label of each of ``n`` nodes given undirected edges ``a - b``.

    Examples
    --------
    >>> components(5, np.array([0, 3]), np.array([1, 4])).tolist()
    [0, 0, 1, 2, 2]
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    g = coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n, n)).tocsr()
    return connected_components(g, directed=False)[1]
