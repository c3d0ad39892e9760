"""Negatives records: a mined block as a table in one of sentence-transformers' shapes.

* ``triplet`` -- one row per (query, positive, negative): ``query_id``, ``positive_id``,
  ``negative_id``;
* ``n-tuple`` -- one row per (query, positive) with all ``k`` negatives:
  ``negative_1_id`` ... ``negative_k_id`` (pairs with fewer than ``k`` are left out,
  as sentence-transformers does; the manifest counts them);
* ``labeled-pair`` -- ``query_id``, ``doc_id``, ``label`` (1 for each positive, 0 for
  each distinct negative of the query).

With texts, the columns sentence-transformers' losses read come first, under its
names: ``anchor``, ``positive``, ``negative`` / ``negative_1`` ... (``anchor``,
``positive``, ``label`` for labeled pairs, as its miner writes them), then the ids.
Drop the id columns before training (``dataset.remove_columns([...])``): the
trainer treats every column but ``label`` / ``score`` as an input.

Examples
--------
>>> import numpy as np, pyarrow as pa
>>> from datadiet.negatives._miner import MinedBlock
>>> blk = MinedBlock(np.array([0]), np.array([1]), np.array([[2, -1]]), np.array([[0.5, np.nan]], "f4"),
...                  np.array([0.9], "f4"))
>>> records_table(blk, "triplet", pa.array(["q"]), pa.array(["a", "b", "c"])).to_pylist()
[{'query_id': 'q', 'positive_id': 'b', 'negative_id': 'c'}]
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from datadiet.negatives._miner import MinedBlock

__all__ = ["FORMATS", "records_table"]

FORMATS = ("triplet", "n-tuple", "labeled-pair")


def _take(arr: pa.Array, rows: np.ndarray) -> pa.Array:
    return arr.take(pa.array(np.asarray(rows, dtype=np.int64)))


def records_table(block: MinedBlock, fmt: str, query_ids: pa.Array, doc_ids: pa.Array,
                  query_texts: pa.Array | None = None, doc_texts: pa.Array | None = None) -> pa.Table:
    """The block as a table in format ``fmt`` (texts added when both text arrays are given)."""
    texts = query_texts is not None and doc_texts is not None
    neg = block.negatives
    if fmt == "triplet":
        rows, cols = np.nonzero(neg >= 0)
        q, p, d = block.query[rows], block.positive[rows], neg[rows, cols]
        cols_out: dict[str, pa.Array] = {}
        if texts:
            assert query_texts is not None and doc_texts is not None
            cols_out.update(anchor=_take(query_texts, q), positive=_take(doc_texts, p), negative=_take(doc_texts, d))
        cols_out.update(query_id=_take(query_ids, q), positive_id=_take(doc_ids, p), negative_id=_take(doc_ids, d))
        return pa.table(cols_out)
    if fmt == "n-tuple":
        full = (neg >= 0).all(axis=1)
        q, p, nn = block.query[full], block.positive[full], neg[full]
        cols_out = {}
        if texts:
            assert query_texts is not None and doc_texts is not None
            cols_out.update(anchor=_take(query_texts, q), positive=_take(doc_texts, p))
            for j in range(nn.shape[1]):
                cols_out[f"negative_{j + 1}"] = _take(doc_texts, nn[:, j])
        cols_out.update(query_id=_take(query_ids, q), positive_id=_take(doc_ids, p))
        for j in range(nn.shape[1]):
            cols_out[f"negative_{j + 1}_id"] = _take(doc_ids, nn[:, j])
        return pa.table(cols_out)
    if fmt == "labeled-pair":
        # per query: its positives (label 1), then its distinct negatives (label 0), best first
        k = neg.shape[1]
        qq = np.concatenate([block.query[:, None], np.repeat(block.query[:, None], k, axis=1)], axis=1)
        dd = np.concatenate([block.positive[:, None], neg], axis=1)
        lab = np.concatenate([np.ones((len(neg), 1), np.int8), np.zeros((len(neg), k), np.int8)], axis=1)
        ok = dd >= 0
        q, d, label = qq[ok], dd[ok], lab[ok]
        # positives of every pair first, then negatives; keep the first of each (query, doc)
        order = np.lexsort((1 - label, q), axis=-1)
        q, d, label = q[order], d[order], label[order]
        key = np.stack([q, d], axis=1)
        _, first = np.unique(key, axis=0, return_index=True)
        first = np.sort(first)
        q, d, label = q[first], d[first], label[first]
        cols_out = {}
        if texts:
            assert query_texts is not None and doc_texts is not None
            cols_out.update(anchor=_take(query_texts, q), positive=_take(doc_texts, d))
        cols_out.update(query_id=_take(query_ids, q), doc_id=_take(doc_ids, d), label=pa.array(label))
        return pa.table(cols_out)
    raise ValueError(f"format must be one of {', '.join(map(repr, FORMATS))}; got {fmt!r}")
