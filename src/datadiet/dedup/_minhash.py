"""MinHash signatures over word or character shingles, computed on whole columns.

Everything works on the UTF-8 bytes of a pyarrow string column at once. Word
shingles: words are found with numpy masks over the byte buffer
(:func:`~datadiet.dedup._normalize.word_spans`), normalised and hashed eight bytes at
a time through a uint64 view of the buffer (only words that need Unicode
normalisation go through Arrow). Character shingles: each character is hashed
with a polynomial hash summed by ``np.add.reduceat``. ``ngram`` consecutive unit
hashes are combined into a 64-bit shingle hash, and each permutation
``h_p(x) = a_p * x mod 2**32`` (``x`` the top 32 bits of the shingle hash, ``a_p``
odd) is minimised per document with ``np.minimum.reduceat``. No Python object is
made per document; Python loops run over blocks only.

Shingling (the same as ``" ".join(words[i:i + ngram])`` over ``text.split()``):

* ``"word"``: words are runs of non-whitespace; a document with fewer than
  ``ngram`` words has one shingle made of all its words;
* ``"char"``: ``ngram`` consecutive Unicode characters (spaces included), same rule.

A document without any unit (empty after normalisation) has no shingles: its
signature is all ``0xFFFFFFFF`` and :func:`shingle_counts` reports 0.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datadiet._core._errors import DataError, DataTypeError
from datadiet._core._hashing import _poly_powers, splitmix64
from datadiet.dedup._normalize import (
    Normalization,
    as_text_array,
    fold_ascii,
    fold_ascii_bytes,
    punctuation_marks,
    word_spans,
)

__all__ = ["SHINGLES", "shingle_hashes", "minhash_signatures", "minhash_params", "minhash_signal",
           "jaccard_pairs"]

SHINGLES = ("word", "char")
_SEP = np.zeros(256, dtype=bool)
_SEP[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_MIX = np.random.default_rng(0x5817).integers(1, 2**63, size=64, dtype=np.uint64) | np.uint64(1)
_M2 = np.uint64(0x94D049BB133111EB)
_WORD_MUL = np.uint64(0xD6E8FEB86659FD93)  # odd: first eight bytes of a word, and the base over later ones
_LEN_MASK = np.array([(1 << (8 * j)) - 1 for j in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
#: Version of the signature scheme, part of the cache key (2: ``a * x mod 2**32``, words hashed
#: eight bytes at a time; 1 was ``a * x + b`` over a byte-polynomial word hash).
MINHASH_VERSION = 2
#: Bytes of text shingled at once (bounds the temporary arrays to ~40x this).
TEXT_CHUNK_BYTES = 2 << 20
#: Shingles hashed by all permutations at once (bounds the (perms, shingles) block: 4 MB at 128).
SHINGLE_BLOCK = 8192


def _bytes_and_offsets(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    arr = arr.cast(pa.large_string())
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
    base = int(offsets[0]) if len(offsets) else 0
    total = int(offsets[-1]) - base if len(offsets) else 0
    data = (np.frombuffer(bufs[2], dtype=np.uint8)[base: base + total] if bufs[2] is not None and total
            else np.zeros(0, np.uint8))
    return data, offsets - base


def _units(data: np.ndarray, offsets: np.ndarray, shingle: str) -> tuple[np.ndarray, np.ndarray]:
    """Hash of every unit (word or character) and the number of units of each document."""
    n = len(offsets) - 1
    if data.size == 0:
        return np.zeros(0, np.uint64), np.zeros(n, np.int64)
    doc_start = np.zeros(data.size, dtype=bool)
    starts = offsets[:-1][np.diff(offsets) > 0]
    doc_start[starts] = True
    if shingle == "word":
        keep = ~_SEP[data]
        prev_sep = np.empty(data.size, dtype=bool)
        prev_sep[0] = True
        prev_sep[1:] = ~keep[:-1]
        start_flag = keep & (prev_sep | doc_start)
        bytes_ = data[keep]
        flags = start_flag[keep]
    else:
        start_flag = (data & 0xC0) != 0x80
        start_flag |= doc_start
        bytes_ = data
        flags = start_flag
    if bytes_.size == 0:
        return np.zeros(0, np.uint64), np.zeros(n, np.int64)
    unit_pos = np.flatnonzero(flags)
    unit_id = np.cumsum(flags) - 1
    pos = np.arange(bytes_.size, dtype=np.int64) - unit_pos[unit_id]
    lengths = np.diff(np.append(unit_pos, bytes_.size))
    contrib = (bytes_.astype(np.uint64) + np.uint64(1)) * _poly_powers(int(lengths.max()) + 1)[pos]
    h = np.add.reduceat(contrib, unit_pos)
    h = splitmix64(h ^ (lengths.astype(np.uint64) * _M2))
    unit_doc = np.searchsorted(offsets[1:], np.flatnonzero(start_flag), side="right")
    return h, np.bincount(unit_doc, minlength=n).astype(np.int64)


def _times_m2(k: int) -> np.uint64:
    return np.uint64((k * int(_M2)) & 0xFFFFFFFFFFFFFFFF)


def _shingles(units: np.ndarray, counts: np.ndarray, ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """Combine ``ngram`` consecutive unit hashes of the same document.

    Shingle ``k`` of a document starting at unit ``i`` is ``sum_j units[i + j] * MIX[j]``
    over its ``terms = min(ngram, count)`` units, finalised with the number of terms.
    The window sum is computed at every unit position with contiguous multiply-adds
    (windows that run past their document's end are computed and thrown away), then
    the windows that start a shingle are kept.
    """
    counts = np.asarray(counts, dtype=np.int64)
    per_doc = np.where(counts > 0, np.maximum(counts - ngram + 1, 1), 0).astype(np.int64)
    n_units = units.size
    total = int(per_doc.sum())
    if total == 0:
        return np.zeros(0, np.uint64), per_doc
    width = min(ngram, int(counts.max()))
    first = np.cumsum(counts) - counts
    short = (counts > 0) & (counts < ngram)  # one shingle made of all of its (fewer than ngram) units
    short_first, short_cnt = first[short], counts[short]
    pad = np.zeros(n_units + width, dtype=np.uint64)
    pad[:n_units] = units
    acc = pad[:n_units] * _MIX[0]
    tmp = np.empty(n_units, dtype=np.uint64)
    short_acc = np.zeros(short_cnt.size, dtype=np.uint64)
    for j in range(width):
        if j:
            np.multiply(pad[j:j + n_units], _MIX[j % 64], out=tmp)
            acc += tmp
        done = short_cnt == j + 1
        if done.any():
            short_acc[done] = acc[short_first[done]] ^ _times_m2(j + 1)
    acc ^= _times_m2(width)
    if short_cnt.size:
        acc[short_first] = short_acc
    if total < n_units:  # drop the last ngram - 1 window starts of every long document
        keep = np.ones(n_units, dtype=bool)
        long_end = (first + counts)[counts >= ngram]
        for j in range(1, ngram):
            keep[long_end - j] = False
        extra = short_cnt - 1  # a short document keeps its first window start only
        if extra.sum():
            skip = np.arange(int(extra.sum()), dtype=np.int64) - np.repeat(np.cumsum(extra) - extra, extra)
            keep[np.repeat(short_first, extra) + skip + 1] = False
        acc = acc[keep]
    return splitmix64(acc, inplace=True), per_doc


_VIEW_PAD = 8


def _padded(data: np.ndarray) -> np.ndarray:
    buf = np.zeros(data.size + _VIEW_PAD, dtype=np.uint8)
    buf[:data.size] = data
    return buf


def _u64_view(buf: np.ndarray) -> np.ndarray:
    """The eight bytes starting at every position of ``buf`` as one uint64 (little-endian)."""
    return np.ndarray((buf.size - 7,), dtype="<u8", buffer=buf, strides=(1,))


def _hash_spans(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
                norm: Normalization | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """64-bit hash of each byte string ``buf[s:s + l]``, read eight bytes at a time.

    ``buf`` ends with at least eight zero bytes. With ``norm``, each eight-byte chunk
    is first normalised by :func:`fold_ascii`; a ``flag`` is returned too, non-zero
    for the strings it cannot normalise (bit 7 of a byte: a non-ASCII byte; bit 0:
    punctuation to remove).
    """
    view = _u64_view(buf)
    marks = punctuation_marks(buf, norm) if norm is not None else None
    mview = _u64_view(marks) if marks is not None else None
    lengths = np.asarray(lengths, dtype=np.int64)
    mask = _LEN_MASK[np.minimum(lengths, 8)]
    chunk = view[starts] & mask
    flag = None
    if norm is not None:
        chunk, flag = fold_ascii(chunk, norm)
        if mview is not None:
            flag |= mview[starts] & mask
    acc = chunk * _WORD_MUL
    rest = np.flatnonzero(lengths > 8)
    k = 1
    while rest.size:  # later chunks of the words longer than 8 k bytes
        left = lengths[rest] - 8 * k
        pos = starts[rest] + 8 * k
        mask = _LEN_MASK[np.minimum(left, 8)]
        chunk = view[pos] & mask
        if norm is not None:
            chunk, f = fold_ascii(chunk, norm)
            if mview is not None:
                f |= mview[pos] & mask
            flag[rest] |= f  # type: ignore[index]
        acc[rest] = acc[rest] * _WORD_MUL + chunk
        rest = rest[left > 8]
        k += 1
    acc ^= lengths.astype(np.uint64) * _M2
    return splitmix64(acc, inplace=True), flag


def _gather_spans(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bytes of the spans one after the other, and their offsets."""
    off = np.zeros(starts.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=off[1:])
    pos = np.repeat(starts - off[:-1], lengths) + np.arange(int(off[-1]), dtype=np.int64)
    return buf[pos], off


def _word_units(text: pa.Array, norm: Normalization) -> tuple[np.ndarray, np.ndarray]:
    """Hash of every normalised word and the number of words of each document.

    Words are found and hashed on the UTF-8 bytes directly (:func:`word_spans`);
    :func:`fold_ascii` normalises the ASCII ones eight bytes at a time. ASCII words
    with punctuation to remove are normalised byte by byte (:func:`fold_ascii_bytes`);
    only the words with a non-ASCII byte are gathered into an Arrow array and
    normalised through a dictionary of their distinct values, as
    :meth:`Normalization.apply` does. Words that normalise to nothing are left out.
    """
    data, offsets = _bytes_and_offsets(text)
    buf = _padded(data)
    starts, lengths, counts = word_spans(buf, offsets)
    units, flag = _hash_spans(buf, starts, lengths, norm)
    if flag is None:
        return units, counts
    gone = []
    uni = (flag & np.uint64(0x8080808080808080)) != 0
    punct = np.flatnonzero((flag != 0) & ~uni)
    uni = np.flatnonzero(uni)
    if punct.size:  # ASCII words with punctuation: drop those bytes, lower-case, hash again
        raw, off = _gather_spans(buf, starts[punct], lengths[punct])
        folded, kept = fold_ascii_bytes(raw, norm)
        assert kept is not None
        new_len = np.add.reduceat(kept, off[:-1], dtype=np.int64)
        new_off = np.zeros(punct.size + 1, dtype=np.int64)
        np.cumsum(new_len, out=new_off[1:])
        units[punct], _ = _hash_spans(_padded(folded[kept]), new_off[:-1], new_len)
        gone.append(punct[new_len == 0])
    if uni.size:  # words with a non-ASCII byte: Unicode normalisation of their distinct values
        raw, off = _gather_spans(buf, starts[uni], lengths[uni])
        arr = pa.Array.from_buffers(pa.large_string(), uni.size, [None, pa.py_buffer(off), pa.py_buffer(raw)])
        enc = pc.dictionary_encode(arr)
        words = norm._apply_words(enc.dictionary).cast(pa.large_string())
        w_data, w_off = _bytes_and_offsets(words)
        w_len = np.diff(w_off)
        w_hash, _ = _hash_spans(_padded(w_data), w_off[:-1], w_len)
        codes = enc.indices.to_numpy(zero_copy_only=False)
        units[uni] = w_hash[codes]
        gone.append(uni[w_len[codes] == 0])
    drop = np.concatenate(gone) if gone else np.zeros(0, np.int64)
    if drop.size:
        keep = np.ones(units.size, dtype=bool)
        keep[drop] = False
        units = units[keep]
        counts = np.diff(np.searchsorted(starts[keep], offsets)).astype(np.int64)
    return units, counts


def shingle_hashes(text: Any, *, shingle: str = "word", ngram: int = 5,
                   normalize: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of the shingles of each document.

    ``normalize`` (see :class:`Normalization`) is applied first; word shingles
    normalise each distinct word once (whitespace splits words whatever the setting).

    Returns
    -------
    hashes : ndarray of uint64, all documents' shingles one after the other
    counts : ndarray of int64, number of shingles of each document

    Examples
    --------
    >>> h, c = shingle_hashes(["a b c", "A b C!", "x"], ngram=2, normalize="default")
    >>> c.tolist(), bool(h[0] == h[2]), bool(h[4] != h[0])
    ([2, 2, 1], True, True)
    """
    if shingle not in SHINGLES:
        raise DataError(f"shingle must be one of {', '.join(map(repr, SHINGLES))}; got {shingle!r}")
    arr = as_text_array(text)
    norm = Normalization.parse(normalize)
    if shingle == "word":
        units, counts = _word_units(arr, norm)
    else:
        data, offsets = _bytes_and_offsets(norm.apply(arr))
        units, counts = _units(data, offsets, shingle)
    return _shingles(units, counts, int(ngram))


def _permutations(num_perm: int, seed: int) -> np.ndarray:
    """The odd multipliers ``a_p`` of the permutations ``x -> a_p * x mod 2**32``."""
    rng = np.random.default_rng([0x4D494E48, int(seed)])
    return rng.integers(0, 2**32, size=num_perm, dtype=np.uint64).astype(np.uint32) | np.uint32(1)


def _signatures_into(sig: np.ndarray, hashes: np.ndarray, counts: np.ndarray, a: np.ndarray) -> None:
    """Write the signatures of the documents (``counts`` shingles each) into ``sig`` ``(n, p)``."""
    n, p = counts.size, a.size
    cum = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=cum[1:])
    # the top 32 bits of the (well mixed) shingle hash, permuted by x -> a*x mod 2**32 (a odd:
    # a bijection; the top bits of the product depend on every bit of x). Blocks are laid out
    # (perms, shingles) so the per-document minimum runs along contiguous rows (``reduceat``
    # over axis 1 is ~2.5x faster than over axis 0 of the transposed block), and small enough
    # (4 MB, measured best of 2-16k shingles) to stay in cache between the product and the minimum.
    x = (hashes >> np.uint64(32)).astype(np.uint32)
    a_col = a[:, None]
    buf = np.empty((p, SHINGLE_BLOCK), dtype=np.uint32)
    lo = 0
    while lo < n:
        hi = int(np.searchsorted(cum, cum[lo] + SHINGLE_BLOCK, side="right")) - 1
        hi = max(hi, lo + 1)
        s0, s1 = int(cum[lo]), int(cum[hi])
        m = s1 - s0
        empty = counts[lo:hi] == 0
        if m:
            blk = buf[:, :m] if m <= SHINGLE_BLOCK else np.empty((p, m), dtype=np.uint32)
            np.multiply(a_col, x[None, s0:s1], out=blk)
            if empty.any():
                docs = np.flatnonzero(~empty)
                sig[lo + docs] = np.minimum.reduceat(blk, cum[lo + docs] - s0, axis=1).T
            else:
                np.minimum.reduceat(blk, cum[lo:hi] - s0, axis=1, out=sig[lo:hi].T)
        if empty.any():
            sig[lo + np.flatnonzero(empty)] = np.uint32(0xFFFFFFFF)
        lo = hi


def minhash_params(*, num_perm: int = 128, shingle: str = "word", ngram: int = 5,
                   normalize: Any = "default", seed: int = 1, version: int = MINHASH_VERSION) -> dict[str, Any]:
    """The parameters that define a MinHash signal (its cache key), validated.

    ``version`` names the signature scheme (:data:`MINHASH_VERSION`, the only one computed),
    so signatures cached by an older scheme are never mistaken for this one's.
    """
    if isinstance(num_perm, bool) or not isinstance(num_perm, (int, np.integer)) or not 1 <= num_perm <= 4096:
        raise DataError(f"num_perm must be an integer between 1 and 4096; got {num_perm!r}")
    if shingle not in SHINGLES:
        raise DataError(f"shingle must be one of {', '.join(map(repr, SHINGLES))}; got {shingle!r}")
    if isinstance(ngram, bool) or not isinstance(ngram, (int, np.integer)) or not 1 <= ngram <= 64:
        raise DataError(f"ngram must be an integer between 1 and 64; got {ngram!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DataError(f"seed of the MinHash permutations must be an integer >= 0; got {seed!r}")
    if version != MINHASH_VERSION or isinstance(version, bool):
        raise DataError(f"MinHash signature version {version!r} is not computed by this datadiet; "
                         f"use version={MINHASH_VERSION} (recompute older signatures)")
    norm = Normalization.parse(normalize)
    return {"num_perm": int(num_perm), "shingle": shingle, "ngram": int(ngram),
            "normalize": norm.describe(), "seed": int(seed), "version": MINHASH_VERSION}


def _idle_cpus() -> int:
    """CPUs this process may use minus the machine's 1-minute load average, rounded; 1 to 8."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    try:
        idle = cpus - os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this platform
        idle = cpus
    return max(1, min(cpus, 8, int(idle + 0.5)))


def _chunks(arr: pa.Array, max_bytes: int) -> list[tuple[int, int]]:
    _, offsets = _bytes_and_offsets(arr)
    out, lo, n = [], 0, len(arr)
    while lo < n:
        hi = int(np.searchsorted(offsets, offsets[lo] + max_bytes, side="right")) - 1
        hi = min(max(hi, lo + 1), n)
        out.append((lo, hi))
        lo = hi
    return out


def minhash_signatures(text: Any, *, num_perm: int = 128, shingle: str = "word", ngram: int = 5,
                       normalize: Any = "default", seed: int = 1, n_jobs: int | None = None,
                       version: int = MINHASH_VERSION) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures of a text column.

    Parameters
    ----------
    text : pyarrow string array or list of str
    num_perm : int, default 128
        Number of hash permutations (signature length).
    shingle : {"word", "char"}, default "word"
    ngram : int, default 5
        Units per shingle.
    normalize : Normalization or str, default "default"
        Applied before shingling (see :class:`Normalization`).
    seed : int, default 1
        Seed of the permutations (fixed: the signature is a property of the text).
    n_jobs : int, optional
        Threads shingling and hashing blocks of text at once (numpy and pyarrow
        release the GIL); default: the idle CPUs (CPUs minus the 1-minute load
        average, rounded), at least 1 and at most 8: on a busy machine a second
        thread only adds CPU time (the threads compete for caches and memory) without
        finishing sooner. The result does not depend on it.
    version : int, default MINHASH_VERSION
        The signature scheme (the only one computed; accepted so that the dict of
        :func:`minhash_params` can be passed as keywords).

    Returns
    -------
    signatures : ndarray (n, num_perm) of uint32
    n_shingles : ndarray (n,) of int64 (0 for documents with no shingle)

    Examples
    --------
    >>> sig, cnt = minhash_signatures(["the cat sat on the mat", "The cat sat on the mat!", "dogs"])
    >>> bool((sig[0] == sig[1]).all()), float((sig[0] == sig[2]).mean())
    (True, 0.0)
    """
    params = minhash_params(num_perm=num_perm, shingle=shingle, ngram=ngram, normalize=normalize, seed=seed,
                            version=version)
    norm = Normalization.parse(normalize)
    arr = as_text_array(text)
    if arr.null_count:
        raise DataError(f"the text has {arr.null_count} empty (null) values; fill or drop them first")
    a = _permutations(params["num_perm"], params["seed"])
    jobs = n_jobs if n_jobs is not None else _idle_cpus()
    if isinstance(jobs, bool) or not isinstance(jobs, (int, np.integer)) or jobs < 1:
        raise DataError(f"n_jobs must be a positive integer; got {n_jobs!r}")
    sig = np.empty((len(arr), params["num_perm"]), dtype=np.uint32)
    cnt = np.empty(len(arr), dtype=np.int64)

    def one(span: tuple[int, int]) -> None:  # each block writes its own rows: no final concatenate
        lo, hi = span
        h, c = shingle_hashes(arr.slice(lo, hi - lo), shingle=shingle, ngram=params["ngram"], normalize=norm)
        _signatures_into(sig[lo:hi], h, c, a)
        cnt[lo:hi] = c

    spans = _chunks(arr, TEXT_CHUNK_BYTES)
    if jobs > 1 and len(spans) > 1:
        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(one, spans))
    else:
        for span in spans:
            one(span)
    return sig, cnt


def minhash_signal(source: Any, text_column: str, *, cache: bool = True, cache_root: Any = None,
                   batch_size: int = 65536, **params: Any) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures of a source's text column, read in batches and cached.

    The signatures are stored with :class:`~datadiet.signals.SignalCache` (name
    ``minhash``, keyed by the input fingerprint, the column and ``params``) and
    memory-mapped on the next call. While it runs, every finished batch is kept
    in a part file, so a killed run resumes at its first unfinished batch.

    Examples
    --------
    >>> import pyarrow as pa
    >>> sig, cnt = minhash_signal(pa.table({"t": ["a b c", "d e f"]}), "t", num_perm=16)
    >>> sig.shape, cnt.tolist()
    ((2, 16), [1, 1])
    """
    from datadiet.io import atomic_path, open_source
    from datadiet.signals import SignalCache

    src = open_source(source)
    src.check_columns([text_column])
    key = {**minhash_params(**params), "column": text_column}
    store = SignalCache(src, cache_root) if cache else None
    if store is not None and store.enabled:
        hit = store.load_vectors("minhash", key)
        cnt = store.load_vectors("minhash_count", key)
        if hit is not None and cnt is not None:
            return hit, cnt
    final = store.path("minhash", key, ".npy") if store is not None and store.enabled else None
    parts = final.with_suffix(".parts") if final is not None else None
    if parts is not None:
        parts.mkdir(parents=True, exist_ok=True)
    sigs, cnts = [], []
    for i, batch in enumerate(src.batches([text_column], batch_size)):
        done = parts / f"part-{i:06d}.npz" if parts is not None else None
        if done is not None and done.exists():  # a killed run resumes at its first unfinished batch
            with np.load(done) as z:
                sigs.append(z["sig"])
                cnts.append(z["cnt"])
            continue
        col = batch.table.column(text_column)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            raise DataTypeError(f"text column {text_column!r} must hold strings, found {col.type}")
        s, c = minhash_signatures(col.combine_chunks(), **minhash_params(**params))
        if done is not None:
            with atomic_path(done) as tmp, open(tmp, "wb") as f:
                np.savez(f, sig=s, cnt=c)
        sigs.append(s)
        cnts.append(c)
    p = key["num_perm"]
    sig = np.concatenate(sigs) if sigs else np.zeros((0, p), np.uint32)
    cnt = np.concatenate(cnts) if cnts else np.zeros(0, np.int64)
    if store is not None and store.enabled:
        store.save_vectors("minhash", key, sig)
        store.save_vectors("minhash_count", key, cnt)
        if parts is not None:
            shutil.rmtree(parts, ignore_errors=True)
    return sig, cnt


def jaccard_pairs(text: Any, left: np.ndarray, right: np.ndarray, *, shingle: str = "word", ngram: int = 5,
                  normalize: Any = "default") -> np.ndarray:
    """True Jaccard similarity of the shingle sets of documents ``left[k]`` and ``right[k]``.

    Only the documents named in the pairs are shingled; the intersection of each
    pair is counted with one ``searchsorted`` over sorted ``(document, shingle)`` keys.

    Examples
    --------
    >>> jaccard_pairs(["a b c d", "a b c e", "x y"], [0, 0], [1, 2], ngram=1).round(2).tolist()
    [0.6, 0.0]
    """
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    if left.size == 0:
        return np.zeros(0, np.float64)
    arr = as_text_array(text)
    docs, inv = np.unique(np.concatenate([left, right]), return_inverse=True)
    li, ri = inv[: left.size], inv[left.size:]
    h, c = shingle_hashes(pc.take(arr, pa.array(docs)), shingle=shingle, ngram=ngram, normalize=normalize)
    owner = np.repeat(np.arange(docs.size, dtype=np.int64), c)
    codes = np.unique(h, return_inverse=True)[1].astype(np.int64)
    keys = np.unique((owner << np.int64(32)) | codes)  # sorted, one per (doc, distinct shingle)
    kdoc = keys >> np.int64(32)
    size = np.bincount(kdoc, minlength=docs.size)
    start = np.zeros(docs.size + 1, dtype=np.int64)
    np.cumsum(size, out=start[1:])
    # probe every shingle of the smaller side of each pair in the other side's keys
    small_is_left = size[li] <= size[ri]
    a = np.where(small_is_left, li, ri)
    b = np.where(small_is_left, ri, li)
    na = size[a]
    pair = np.repeat(np.arange(a.size), na)
    offs = np.arange(int(na.sum()), dtype=np.int64) - np.repeat(np.cumsum(na) - na, na)
    probe = (b[pair] << np.int64(32)) | (keys[start[a][pair] + offs] & np.int64(0xFFFFFFFF))
    pos = np.minimum(np.searchsorted(keys, probe), keys.size - 1)
    inter = np.bincount(pair, weights=(keys[pos] == probe), minlength=a.size)
    union = size[li] + size[ri] - inter
    return np.divide(inter, union, out=np.zeros(a.size), where=union > 0)
