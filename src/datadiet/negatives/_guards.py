"""False-negative guards: masks over a block of candidate documents.

Every guard takes the candidates of a block of queries, ``cand`` (B, K) of
corpus rows, and returns a boolean mask (B, K) of candidates that must not
become negatives of that query:

* :func:`known_positive_mask` -- the candidate is a labelled positive of the query;
* :func:`duplicate_text_mask` -- its normalised text equals that of a positive;
* :func:`near_duplicate_mask` -- (opt-in) its vector is at least ``threshold``
  cosine-similar to a positive's;
* :func:`guide_veto_mask` -- (opt-in) a guide model scores it at or above the
  query's positive (the GISTEmbed rule).

Sets of ``(query, document)`` pairs are sorted ``uint64`` keys looked up with
``numpy.searchsorted``: no Python loop per query and nothing quadratic.

Examples
--------
>>> import numpy as np
>>> keys = pair_keys(np.array([0, 1]), np.array([2, 0]))
>>> known_positive_mask(np.array([0, 1]), np.array([[2, 1], [2, 0]]), np.sort(keys)).tolist()
[[True, False], [False, True]]
"""

from __future__ import annotations

import numpy as np

from datadiet._core import splitmix64

__all__ = ["pair_keys", "in_sorted", "known_positive_mask", "duplicate_text_mask", "near_duplicate_mask",
           "guide_veto_mask", "padded_positives"]

_SALT = np.uint64(0x2545F4914F6CDD1D)


def pair_keys(query_rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """One uint64 key per ``(query row, value)``; ``values`` may be doc rows or text hashes.

    Broadcasts: ``query_rows`` (B,) or (B, 1) with ``values`` (B, K).
    """
    q = splitmix64(np.asarray(query_rows).astype(np.uint64) ^ _SALT)
    v = np.asarray(values).astype(np.uint64)
    if v.ndim == 2 and q.ndim == 1:
        q = q[:, None]
    return splitmix64(q ^ splitmix64(v))


def in_sorted(keys: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Membership of every key in a sorted uint64 array (same shape as ``keys``).

    The keys are hashes, so their low bits are uniform: a bit table of the set's low bits
    (about 16 slots per member, at most 2**24) rules out most keys at once, and only the few
    left are binary-searched (10x faster than searching every key).

    Examples
    --------
    >>> in_sorted(np.array([[5, 7], [9, 1]], np.uint64), np.array([1, 7], np.uint64)).tolist()
    [[False, True], [False, True]]
    """
    out = np.zeros(keys.shape, dtype=bool)
    if sorted_set.size == 0:
        return out
    mask = np.uint64((1 << min(24, max(16, int(sorted_set.size * 16).bit_length()))) - 1)  # at most 16 MB
    table = np.zeros(int(mask) + 1, dtype=bool)
    table[(sorted_set & mask).astype(np.intp)] = True
    maybe = table[(keys & mask).astype(np.intp)]
    k = keys[maybe]
    pos = np.minimum(np.searchsorted(sorted_set, k), sorted_set.size - 1)
    out[maybe] = sorted_set[pos] == k
    return out


def known_positive_mask(query_rows: np.ndarray, cand: np.ndarray, positive_keys: np.ndarray) -> np.ndarray:
    """Candidates that are labelled positives of their query (``positive_keys`` from :func:`pair_keys`)."""
    return in_sorted(pair_keys(query_rows, cand), positive_keys)


def duplicate_text_mask(query_rows: np.ndarray, cand: np.ndarray, text_hash: np.ndarray,
                        positive_text_keys: np.ndarray) -> np.ndarray:
    """Candidates whose normalised-text hash equals that of one of the query's positives."""
    return in_sorted(pair_keys(query_rows, text_hash[cand]), positive_text_keys)


def padded_positives(query_rows: np.ndarray, indptr: np.ndarray, pos_docs: np.ndarray) -> np.ndarray:
    """The positives of each query as a (B, P) matrix padded with ``-1`` (CSR ``indptr`` / ``pos_docs``)."""
    starts, ends = indptr[query_rows], indptr[query_rows + 1]
    counts = ends - starts
    width = int(counts.max(initial=0))
    out = np.full((len(query_rows), max(width, 1)), -1, dtype=np.int64)
    if width:
        col = np.arange(width)
        take = col[None, :] < counts[:, None]
        out[take] = pos_docs[(starts[:, None] + col[None, :])[take]]
    return out


def near_duplicate_mask(cand: np.ndarray, positives: np.ndarray, doc_vectors: np.ndarray,
                        threshold: float) -> np.ndarray:
    """Candidates at least ``threshold`` cosine-similar to one of the query's positives.

    ``positives`` is (B, P) padded with ``-1``; ``doc_vectors`` must be unit rows.
    """
    cv = np.asarray(doc_vectors[cand.ravel()], dtype=np.float32).reshape(*cand.shape, -1)
    pv = np.asarray(doc_vectors[np.maximum(positives, 0).ravel()], dtype=np.float32).reshape(*positives.shape, -1)
    sim = np.einsum("bkd,bpd->bkp", cv, pv)
    sim[np.broadcast_to((positives < 0)[:, None, :], sim.shape)] = -np.inf
    return (sim >= threshold).any(axis=2)


def guide_veto_mask(guide_query: np.ndarray, guide_docs: np.ndarray, cand: np.ndarray,
                    guide_positive_min: np.ndarray) -> np.ndarray:
    """Candidates the guide model scores at or above the query's (lowest-scored) positive.

    ``guide_query`` (B, d'): the block's queries in the guide model's space;
    ``guide_docs`` (n, d'): the corpus in that space; ``guide_positive_min`` (B,).
    """
    gv = np.asarray(guide_docs[cand.ravel()], dtype=np.float32).reshape(*cand.shape, -1)
    scores = np.einsum("bkd,bd->bk", gv, np.asarray(guide_query, dtype=np.float32))
    return scores >= guide_positive_min[:, None]
