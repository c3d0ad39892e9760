"""Hashed n-gram features: unigrams and bigrams of a simple tokenization, hashed into buckets.

Tokenization (documented, deterministic, the same on every machine)
-------------------------------------------------------------------
The text is read as UTF-8 bytes. ASCII letters are lowercased. Every byte is
put in one of three classes:

* *space*: ASCII whitespace (space, ``\\t \\n \\v \\f \\r`` and ``\\x1c``-``\\x1f``);
* *word*: ASCII letters, digits, ``_`` and every non-ASCII byte (so accented
  and non-Latin letters stay inside words);
* *punctuation*: every other byte.

A token is a maximal run of word bytes or a maximal run of punctuation bytes,
which is NLTK's ``WordPunctTokenizer`` (``\\w+|[^\\w\\s]+``, the tokenizer of the
DSIR reference implementation) up to non-ASCII punctuation and case folding.

Features are the document's unigrams and the bigrams of consecutive tokens.
A token's 64-bit hash is a polynomial hash of its lowercased bytes (odd multiplier,
wrapping uint64 arithmetic), salted with its length and finished with SplitMix64; a bigram's hash mixes the hashes
of its two tokens. The bucket is ``(hash >> 32) * buckets >> 32`` (multiply-shift range reduction). No Python ``hash()`` and no
per-n-gram Python loop: a whole batch is featurised with a handful of numpy
passes over its bytes (cumulative sums give every token's hash at once).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from datadiet._core._errors import DataError, DataTypeError
from datadiet._core._hashing import splitmix64

__all__ = ["NgramBatch", "hashed_ngrams", "iter_ngrams", "ngram_counts", "text_array", "DEFAULT_BUCKETS"]

#: Default number of hash buckets (as in the DSIR paper).
DEFAULT_BUCKETS = 10_000

_SPACE, _WORD, _PUNCT = 0, 1, 2
_CLASS = np.full(256, _PUNCT, dtype=np.uint8)
_CLASS[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = _SPACE
for _lo, _hi in ((48, 58), (65, 91), (97, 123), (128, 256)):
    _CLASS[_lo:_hi] = _WORD
_CLASS[ord("_")] = _WORD

_P = np.uint64(0x100000001B3)  # odd, hence invertible modulo 2**64
_P_INV = np.uint64(pow(0x100000001B3, -1, 2**64))
_BIGRAM = np.uint64(0x9E3779B97F4A7C15)
_UNI_SALT = np.uint64(0x2545F4914F6CDD1D)
_pow_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

# A chunk of text is featurised in one go; temporaries are ~40 bytes per text byte.
_CHUNK_BYTES = 1 << 20


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``P**i`` and ``P**-i`` for ``i < n`` (a pair swapped in atomically: threads share it)."""
    have = _pow_cache.get("pq")
    if have is None or have[0].size < n:
        size = max(n, 2 * (0 if have is None else have[0].size), 1 << 16)
        steps = np.full(size, _P, dtype=np.uint64)
        steps[0] = 1
        p = np.cumprod(steps, dtype=np.uint64)
        steps[1:] = _P_INV
        have = (p, np.cumprod(steps, dtype=np.uint64))
        _pow_cache["pq"] = have
    return have[0][:n], have[1][:n]


@dataclass
class NgramBatch:
    """Hashed n-grams of a batch of documents, as a ragged array.

    ``buckets[offsets[i]:offsets[i + 1]]`` are the bucket ids of document ``i``'s
    unigrams and bigrams (repeats kept, in text order). ``n_tokens[i]`` is its
    number of tokens and ``n_bytes`` the UTF-8 size of each text.

    Examples
    --------
    >>> import pyarrow as pa
    >>> b = hashed_ngrams(pa.array(["Hello, world", ""]), buckets=100)
    >>> b.n_tokens.tolist(), b.offsets.tolist()
    ([3, 0], [0, 5, 5])
    """

    offsets: np.ndarray
    buckets: np.ndarray
    n_tokens: np.ndarray
    n_bytes: np.ndarray

    def __len__(self) -> int:
        return len(self.n_tokens)

    @property
    def doc_of(self) -> np.ndarray:
        """Document index of each n-gram."""
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.offsets))

    def counts(self, n_buckets: int, mask: np.ndarray | None = None) -> np.ndarray:
        """Total count per bucket over the documents (those where ``mask`` is true)."""
        b = self.buckets
        if mask is not None:
            b = b[np.repeat(mask, np.diff(self.offsets))]
        return np.bincount(b, minlength=n_buckets).astype(np.int64)

    def dot(self, vector: np.ndarray) -> np.ndarray:
        """Per document, the sum of ``vector`` over its n-grams (a bag-of-n-grams dot product)."""
        if len(self.buckets) == 0:
            return np.zeros(len(self), dtype=np.float64)
        return np.bincount(self.doc_of, weights=vector[self.buckets], minlength=len(self))

    def to_csr(self, n_buckets: int) -> Any:
        """The count matrix as ``scipy.sparse.csr_matrix`` (documents x buckets)."""
        from scipy import sparse

        m = sparse.csr_matrix((np.ones(len(self.buckets), np.float32), self.buckets, self.offsets),
                              shape=(len(self), n_buckets))
        m.sum_duplicates()
        return m

    @classmethod
    def concat(cls, parts: Sequence[NgramBatch]) -> NgramBatch:
        if not parts:
            return cls(np.zeros(1, np.int64), np.zeros(0, np.uint32), np.zeros(0, np.int64), np.zeros(0, np.int64))
        sizes = np.cumsum([0] + [int(p.offsets[-1]) for p in parts[:-1]])
        offsets = np.concatenate([np.zeros(1, np.int64)] + [p.offsets[1:] + s for p, s in zip(parts, sizes, strict=True)])
        return cls(offsets, np.concatenate([p.buckets for p in parts]),
                   np.concatenate([p.n_tokens for p in parts]), np.concatenate([p.n_bytes for p in parts]))


def text_array(text: Any, what: str = "the text column") -> pa.Array:
    """A ``large_string`` array from a pyarrow (chunked) array or a sequence of str.

    Nulls become empty strings. Raises ``TypeError`` for non-string data.
    """
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks() if text.num_chunks != 1 else text.chunk(0)
    if not isinstance(text, pa.Array):
        if isinstance(text, str):
            raise DataTypeError(f"{what} must be a sequence of strings, not one string")
        items = list(text)
        bad = next((x for x in items if x is not None and not isinstance(x, str)), None)
        if bad is not None:
            raise DataTypeError(f"{what} must hold strings; found {type(bad).__name__} value {str(bad)[:40]!r}")
        text = pa.array(items, pa.large_string())
    t = text.type
    if pa.types.is_dictionary(t):
        text = text.dictionary_decode()
        t = text.type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        raise DataTypeError(f"{what} must hold strings, found {t}")
    if text.null_count:
        text = text.fill_null("")
    return text.cast(pa.large_string())


def hashed_ngrams(text: Any, buckets: int = DEFAULT_BUCKETS) -> NgramBatch:
    """Unigram + bigram bucket ids of every text (see the module docstring).

    Parameters
    ----------
    text : pyarrow Array / ChunkedArray of strings, or sequence of str
        Nulls count as empty texts.
    buckets : int, default 10,000
        Number of hash buckets (at most 2**32).

    Returns
    -------
    NgramBatch

    Examples
    --------
    >>> a = hashed_ngrams(["The cat sat."], buckets=1000)
    >>> b = hashed_ngrams(["the CAT sat ."], buckets=1000)
    >>> a.buckets.tolist() == b.buckets.tolist()
    True
    """
    if isinstance(buckets, bool) or not isinstance(buckets, (int, np.integer)) or not 1 <= buckets <= 2**32:
        raise DataError(f"buckets must be an integer in [1, 2**32]; got {buckets!r}")
    arr = text_array(text)
    bufs = arr.buffers()
    offs = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
    base = int(offs[0]) if len(offs) else 0
    total = int(offs[-1]) - base if len(offs) else 0
    data = (np.frombuffer(bufs[2], dtype=np.uint8)[base: base + total]
            if bufs[2] is not None else np.zeros(0, np.uint8))
    offs = offs - base
    parts: list[Any] = []
    # cut into chunks of whole documents of about _CHUNK_BYTES
    doc_cuts = [0]
    if len(arr):
        marks = np.searchsorted(offs, np.arange(_CHUNK_BYTES, total, _CHUNK_BYTES), side="left")
        doc_cuts += [int(m) for m in np.unique(marks) if 0 < m < len(arr)]
    doc_cuts.append(len(arr))
    for a, b in zip(doc_cuts[:-1], doc_cuts[1:], strict=True):
        if b > a or not parts:
            o = offs[a: b + 1]
            parts.append(_featurize(data[o[0]: o[-1]], o - o[0], int(buckets)))
    return NgramBatch.concat(parts)


def _featurize(data: np.ndarray, offs: np.ndarray, n_buckets: int) -> NgramBatch:
    n_docs = len(offs) - 1
    n = len(data)
    n_bytes = np.diff(offs).astype(np.int64)
    if n == 0:
        return NgramBatch(np.zeros(n_docs + 1, np.int64), np.zeros(0, _bucket_dtype(n_buckets)),
                          np.zeros(n_docs, np.int64), n_bytes)
    cls = _CLASS[data]
    # boundaries: class changes, and every document start / end
    brk = np.empty(n + 1, dtype=bool)
    brk[0] = brk[n] = True
    np.not_equal(cls[1:], cls[:-1], out=brk[1:n])
    brk[offs] = True
    nonspace = cls != _SPACE
    starts = np.flatnonzero(brk[:n] & nonspace)
    ends = np.flatnonzero(brk[1:] & nonspace) + 1
    # polynomial hash of each token: sum (byte+1) * P**(i - start), via one cumulative sum
    p, q = _powers(n)
    csum = np.empty(n + 1, dtype=np.uint64)
    csum[0] = 0
    low = data | (((data - np.uint8(65)) < np.uint8(26)).view(np.uint8) << np.uint8(5))
    np.cumsum(np.multiply(low, p, dtype=np.uint64), dtype=np.uint64, out=csum[1:])
    h = (csum[ends] - csum[starts]) * q[starts]
    h ^= (ends - starts).astype(np.uint64) * _UNI_SALT
    h = splitmix64(h)
    n_tokens = np.diff(np.searchsorted(starts, offs)).astype(np.int64)
    tok_doc = np.repeat(np.arange(n_docs, dtype=np.int64), n_tokens)
    # bigrams of consecutive tokens of the same document
    t = len(h)
    same = np.zeros(t, dtype=bool)
    if t > 1:
        np.equal(tok_doc[1:], tok_doc[:-1], out=same[:-1])
    big = np.zeros(t, dtype=np.uint64)
    if t > 1:
        big[:-1] = splitmix64(h[:-1] * _BIGRAM + h[1:])
    pair = np.empty((t, 2), dtype=np.uint64)
    pair[:, 0] = h
    pair[:, 1] = big
    keep = np.empty((t, 2), dtype=bool)
    keep[:, 0] = True
    keep[:, 1] = same
    # bucket = floor(high 32 bits * B / 2**32): no division, uniform for a good hash
    pair >>= np.uint64(32)
    pair *= np.uint64(n_buckets)
    pair >>= np.uint64(32)
    ids: np.ndarray = pair.astype(_bucket_dtype(n_buckets))[keep]
    per_doc = np.maximum(2 * n_tokens - 1, 0)
    offsets = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(per_doc, out=offsets[1:])
    return NgramBatch(offsets, ids, n_tokens, n_bytes)


def _bucket_dtype(n_buckets: int) -> type:
    return np.uint16 if n_buckets <= 1 << 16 else np.uint32


def ngram_counts(text: Any, buckets: int = DEFAULT_BUCKETS) -> np.ndarray:
    """Total count of each hashed n-gram bucket over ``text`` (int64, length ``buckets``).

    Examples
    --------
    >>> int(ngram_counts(["a b c", "d"], buckets=64).sum())  # 4 unigrams + 2 bigrams
    6
    """
    return hashed_ngrams(text, buckets).counts(int(buckets))


# --- streaming with the signal cache --------------------------------------------------------

_CACHE_VERSION = 1


def iter_ngrams(source: Any, text: str, *, id_column: str | None = None, buckets: int = DEFAULT_BUCKETS,
                cache: Any = True, n_jobs: int = 1, batch_size: int = 65536,
                what: str = "") -> Iterator[tuple[pa.Array, NgramBatch]]:
    """Stream ``(ids, NgramBatch)`` over a dataset, through the signal cache.

    The first run featurises the text column and writes the hashed n-grams to
    ``<cache>/ngrams-<params>.parquet`` (columns ``id``, ``n_tokens``, ``n_bytes``,
    ``ngrams``: one list of bucket ids per row); later runs, and other methods,
    read that file instead of the text. Memory stays bounded by one batch per
    worker.

    Parameters
    ----------
    source : anything :func:`datadiet.io.open_source` reads
    text : str
        Text column.
    id_column : str, optional
        Id column (default: assigned ids, see :mod:`datadiet.io`).
    buckets : int, default 10,000
    cache : bool or SignalCache, default True
        ``True`` uses the default cache location of ``source`` (files only);
        ``False`` always featurises.
    n_jobs : int, default 1
        Worker threads featurising batches (numpy releases the GIL).
    what : str
        Name of the dataset in error messages.

    Examples
    --------
    >>> import pyarrow as pa
    >>> parts = list(iter_ngrams(pa.table({"text": ["a b", "c"]}), "text", buckets=16))
    >>> parts[0][1].n_tokens.tolist()
    [2, 1]
    """
    from datadiet.io._ids import batch_ids
    from datadiet.io._read import open_source
    from datadiet.signals._cache import SignalCache

    src = open_source(source)
    name = what or src.name
    params = {"text": text, "id": id_column, "buckets": int(buckets), "version": _CACHE_VERSION}
    sc = cache if isinstance(cache, SignalCache) else (SignalCache(src) if cache else None)
    path = sc.path("ngrams", params, ".parquet") if sc is not None else None
    if path is not None and path.exists():
        yield from _read_cached(path)
        return
    src.check_columns([text, id_column])

    def work(batch: Any) -> tuple[pa.Array, NgramBatch]:
        col = batch.table.column(text)
        arr = text_array(col, f"text column {text!r} of {name}")
        ids = batch_ids(batch.table, id_column, batch.file, batch.row_start)
        return ids, hashed_ngrams(arr, buckets)

    cols = [c for c in (text, id_column) if c]
    results = _parallel_map(work, src.batches(cols, batch_size), n_jobs)
    if path is None:
        yield from results
        return
    from datadiet.io._atomic import atomic_path

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        writer = None
        try:
            for ids, nb in results:
                t = _to_table(ids, nb, buckets)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, t.schema, compression="lz4")
                writer.write_table(t)
                yield ids, nb
            if writer is None:
                empty = _to_table(pa.array([], pa.int64()), NgramBatch.concat([]), buckets)
                writer = pq.ParquetWriter(tmp, empty.schema)
        finally:
            if writer is not None:
                writer.close()
    meta = {"name": "ngrams", "params": params, "file": path.name,
            "description": "hashed unigram+bigram bucket ids per row (datadiet.signals.hashed_ngrams)"}
    with atomic_path(path.with_suffix(".json")) as mtmp:
        mtmp.write_text(json.dumps(meta, indent=2))


def _to_table(ids: pa.Array, nb: NgramBatch, buckets: int) -> pa.Table:
    vals = pa.array(nb.buckets.astype(_bucket_dtype(buckets), copy=False))
    lists = pa.LargeListArray.from_arrays(pa.array(nb.offsets), vals)
    return pa.table({"id": ids, "n_tokens": pa.array(nb.n_tokens.astype(np.int32)),
                     "n_bytes": pa.array(nb.n_bytes), "ngrams": lists})


def _read_cached(path: Path) -> Iterator[tuple[pa.Array, NgramBatch]]:
    pf = pq.ParquetFile(path)
    for i in range(pf.num_row_groups):
        t = pf.read_row_group(i)
        lists = t.column("ngrams").combine_chunks()
        offsets = np.asarray(lists.offsets, dtype=np.int64)
        vals = lists.values.to_numpy(zero_copy_only=False)
        offsets = offsets - offsets[0]
        nb = NgramBatch(offsets, vals[: offsets[-1]] if len(offsets) else vals,
                        t.column("n_tokens").to_numpy().astype(np.int64),
                        t.column("n_bytes").to_numpy().astype(np.int64))
        yield t.column("id").combine_chunks(), nb


def _parallel_map(fn: Any, items: Iterator[Any], n_jobs: int) -> Iterator[Any]:
    """``map(fn, items)`` in order, with up to ``n_jobs`` threads and bounded look-ahead."""
    if n_jobs <= 1:
        for it in items:
            yield fn(it)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(n_jobs) as ex:
        pending: deque[Any] = deque()
        for it in items:
            pending.append(ex.submit(fn, it))
            if len(pending) > n_jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
