"""Hard-negative mining: faiss search in batches, rank / score windows, margins, guards, strategies.

The rules follow sentence-transformers' ``util.mine_hard_negatives`` exactly where
the two overlap, so the same embeddings and settings give the same negatives:

1. each query's ``range_max + max_positives + 1`` nearest documents are searched
   (faiss, exact inner product, ``batch_size`` queries at a time; never a dense
   query x corpus matrix; the one extra as sentence-transformers >= 6.3 searches it);
2. candidates are removed by the guards, in this order, each counted in
   ``removed_``: ``known_positive``, ``duplicate_text``, ``near_duplicate``,
   ``guide_veto``, ``absolute_margin`` (``s + margin > s+``), ``relative_margin``
   (``s > s+ - |s+| * margin``), ``max_score`` (``s > max``), ``min_score``
   (``s < min``), where ``s+`` is the query's lowest positive score;
3. the surviving candidates are ranked by score and the window is ranks
   ``[range_min, range_max)`` of the survivors;
4. the strategy picks ``num_negatives`` from the window.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datadiet._core import (
    DataError,
    Declared,
    Param,
    derived_seed,
    hash_ids,
    register,
    resolve_seed,
    splitmix64,
)
from datadiet._core._hashing import as_arrow
from datadiet._core._rows import first_nonfinite_row
from datadiet.io._ids import check_unique
from datadiet.negatives._guards import (
    duplicate_text_mask,
    guide_veto_mask,
    known_positive_mask,
    near_duplicate_mask,
    padded_positives,
    pair_keys,
)
from datadiet.negatives._strategies import STRATEGIES, pick

__all__ = ["HardNegativeMiner", "MinedBlock", "GUARDS", "score_summary"]

#: Guards in the order they are applied (the manifest's ``removed`` counts).
GUARDS = ("known_positive", "duplicate_text", "near_duplicate", "guide_veto", "absolute_margin",
          "relative_margin", "max_score", "min_score")

#: Queries used to estimate SimANS's ``a`` and ``b`` when they are not given.
SIMANS_SAMPLE = 1024


@dataclass
class MinedBlock:
    """Negatives of a block of (query, positive) pairs (rows into the query and corpus arrays)."""

    query: np.ndarray            # (P,) query rows
    positive: np.ndarray         # (P,) corpus rows
    negatives: np.ndarray        # (P, k) corpus rows, -1 where fewer than k were found
    negative_scores: np.ndarray  # (P, k) float32, nan where missing
    positive_scores: np.ndarray  # (P,) float32


@dataclass
class _Data:
    queries: np.ndarray
    docs: np.ndarray
    index: Any
    pair_q: np.ndarray
    pair_d: np.ndarray
    indptr: np.ndarray
    pos_keys: np.ndarray
    text_guard: Future[tuple[np.ndarray, np.ndarray]] | None  # (text code of each doc, (query, code) keys)
    qhash: np.ndarray
    dhash: np.ndarray
    tiebreak: np.ndarray
    guide_q: np.ndarray | None
    guide_d: np.ndarray | None
    max_pos: int
    query_texts: list[str] | None = None
    doc_texts: list[str] | None = None
    stats: dict[str, Any] = field(default_factory=dict)


def _as_list(x: Any) -> list[Any]:
    return x.to_pylist() if hasattr(x, "to_pylist") else list(x)


def _text_guard(texts: list[pa.Array], pair_q: np.ndarray, pair_d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised-text codes of the documents and the sorted (query, code) keys a candidate must not match.

    ``texts`` are the documents' and, optionally, the queries' texts. Equal normalised texts get
    equal codes (arrow's hash table; no per-document Python); the queries share the documents'
    codes, so a document with the query's own text is caught like one with a positive's. A null
    text reads as "", as the CLI reads retrieval files.
    """
    from datadiet.dedup._normalize import normalize_text

    n = len(texts[0])
    norm = [normalize_text(t).fill_null("") for t in texts]  # large_string, as the inputs
    codes = pc.dictionary_encode(pa.concat_arrays(norm)).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    text_hash = codes[:n]
    keys = [pair_keys(pair_q, text_hash[pair_d])]
    if len(texts) > 1:
        keys.append(pair_keys(np.arange(len(texts[1])), codes[n:]))
    return text_hash, np.unique(np.concatenate(keys))


def _text(x: Any) -> str:
    """A text for the cross-encoder: a null reads as "" (as the CLI reads retrieval files), never "None"."""
    return "" if x is None else str(x)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norm, 1e-12)


def _vectors(x: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(x)
    except Exception as e:  # noqa: BLE001 - any failure to view the input as an array
        raise DataError(f"{what} must be a 2-D array of numbers; could not read it ({e})") from None
    if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.number):
        raise DataError(f"{what} must be a 2-D array of numbers (rows, dimensions); got shape {arr.shape}")
    bad = first_nonfinite_row(arr)
    if bad is not None:
        raise DataError(f"{what} hold NaN or infinite values (row {bad} is the first); fix or drop those rows first")
    return arr


@register("negatives")
class HardNegativeMiner(Declared):
    """Mine hard negatives for (query, positive) pairs with false-negative guards.

    Searches the corpus with faiss in batches, removes candidates that are known
    positives, duplicates of a positive (normalised text, optionally near
    duplicates), vetoed by a guide model, or inside the margins / outside the
    score window, ranks the survivors, and picks ``num_negatives`` from ranks
    ``[range_min, range_max)`` with the chosen strategy. Windows and margins mean
    exactly what they mean in sentence-transformers' ``mine_hard_negatives``.

    SimANS (``strategy="simans"``) samples with probability proportional to
    ``exp(-a (s - s+ - b)^2)``. When ``simans_b`` is not given it is the median
    of ``s - s+`` over the valid window candidates of up to 1,024 queries (chosen
    by a hash of their ids), and ``simans_a`` defaults to ``1 / sd^2`` of the same
    gaps: sampling concentrates on candidates of typical difficulty for the
    window, neither the hardest (likely false negatives) nor the easiest.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> docs = rng.normal(size=(50, 8)).astype("float32")
    >>> queries = docs[:5] + 0.1 * rng.normal(size=(5, 8)).astype("float32")
    >>> m = HardNegativeMiner(num_negatives=3).fit(queries, docs, (np.arange(5), np.arange(5)))
    >>> m.negatives_.shape, bool((m.negatives_ != np.arange(5)[:, None]).all())
    ((5, 3), True)
    """

    method = "hard"
    summary = "hard negatives from a rank / score window with margins, guards and top / random / SimANS / mixed"
    example = "datadiet negatives --beir DIR --model minilm --num-negatives 5 --strategy simans -o out.parquet"
    params = (
        Param("num_negatives", "int", 5, "negatives per (query, positive)", low=1),
        Param("strategy", "choice", "top", "how negatives are picked from the window", choices=STRATEGIES),
        Param("range_min", "int", 0, "skip this many best-ranked surviving candidates", low=0),
        Param("range_max", "int", None, "consider only the best range_max surviving candidates "
              "(default: sentence-transformers' rule for top, range_min + 10 k + max positives otherwise)",
              none=True, low=1),
        Param("min_score", "float", None, "drop candidates scoring below this", none=True),
        Param("max_score", "float", None, "drop candidates scoring above this", none=True),
        Param("absolute_margin", "float", None, "drop candidates with s + margin > s(positive)", none=True),
        Param("relative_margin", "float", None, "drop candidates with s > s(positive) - |s(positive)| * margin",
              none=True),
        Param("simans_a", "float", None, "SimANS sharpness a (default: estimated from the data)", none=True, low=0),
        Param("simans_b", "float", None, "SimANS offset b (default: estimated from the data)", none=True),
        Param("hard_ratio", "float", 0.5, "mixed: share of top negatives, the rest random", low=0, high=1),
        Param("similarity", "choice", "cosine", "score of a (query, document) pair", choices=("cosine", "dot")),
        Param("duplicate_text", "bool", True, "never use a document whose normalised text equals a positive's "
              "(or the query's, given query_texts)"),
        Param("near_duplicate", "float", None, "also drop documents at least this cosine-similar to a positive",
              none=True, low=0, high=1),
        Param("cross_encoder", "object", None, "rescore the searched candidates and the positives with this "
              "model's predict(pairs) (e.g. a sentence-transformers CrossEncoder)", none=True, cli=False),
        Param("batch_size", "int", 8192, "queries per faiss search", low=1),
        Param("seed", "seed", 0, "seed of every random choice"),
    )

    def _check_params(self) -> None:
        if self.range_max is not None and self.range_min >= self.range_max:
            raise DataError(f"HardNegativeMiner: range_min ({self.range_min}) must be smaller than range_max "
                            f"({self.range_max})")
        if self.range_max is not None and self.num_negatives > self.range_max - self.range_min:
            raise DataError(f"HardNegativeMiner: cannot mine {self.num_negatives} negatives from ranks "
                            f"[{self.range_min}, {self.range_max}); lower num_negatives or widen the range")

    # ------------------------------------------------------------------ public
    def fit(self, query_vectors: Any, doc_vectors: Any, qrels: tuple[Any, Any], *, query_ids: Any = None,
            doc_ids: Any = None, doc_texts: Any = None, guide: tuple[Any, Any] | None = None,
            query_texts: Any = None) -> HardNegativeMiner:
        """Mine negatives for every (query, positive) pair of ``qrels``.

        Parameters
        ----------
        query_vectors : array (m, d)
        doc_vectors : array (n, d)
        qrels : (query_rows, doc_rows)
            Positive pairs as row numbers into the two arrays.
        query_ids, doc_ids : array-like, optional
            Ids keying every random choice (default: row numbers).
        doc_texts : array-like of str, optional
            Needed for the duplicate-text guard (skipped without it).
        guide : (guide_query_vectors, guide_doc_vectors), optional
            A guide model's vectors: candidates it scores at or above the positive are vetoed.
        query_texts : array-like of str, optional
            With ``doc_texts``, the duplicate-text guard also drops documents whose text is the
            query's own (as sentence-transformers does); needed when ``cross_encoder`` is set.

        Returns
        -------
        self, with ``query_``, ``positive_``, ``negatives_``, ``negative_scores_``,
        ``positive_scores_`` (one row per pair) and ``removed_``, ``summary_``.
        """
        blocks = list(self.iter_blocks(query_vectors, doc_vectors, qrels, query_ids=query_ids, doc_ids=doc_ids,
                                       doc_texts=doc_texts, guide=guide, query_texts=query_texts))
        k = self.num_negatives
        self.query_ = np.concatenate([b.query for b in blocks]) if blocks else np.zeros(0, np.int64)
        self.positive_ = np.concatenate([b.positive for b in blocks]) if blocks else np.zeros(0, np.int64)
        self.negatives_ = np.concatenate([b.negatives for b in blocks]) if blocks else np.zeros((0, k), np.int64)
        self.negative_scores_ = (np.concatenate([b.negative_scores for b in blocks]) if blocks
                                 else np.zeros((0, k), np.float32))
        self.positive_scores_ = (np.concatenate([b.positive_scores for b in blocks]) if blocks
                                 else np.zeros(0, np.float32))
        return self

    def iter_blocks(self, query_vectors: Any, doc_vectors: Any, qrels: tuple[Any, Any], *, query_ids: Any = None,
                    doc_ids: Any = None, doc_texts: Any = None, guide: tuple[Any, Any] | None = None,
                    query_texts: Any = None) -> Iterator[MinedBlock]:
        """Like :meth:`fit`, but yield the pairs block by block (streamed output).

        Everything is validated before the first block; when the generator is
        exhausted ``removed_`` and ``summary_`` are set.
        """
        self.validate_params()
        self.seed_ = resolve_seed(self.seed)
        data = self._prepare(query_vectors, doc_vectors, qrels, query_ids, doc_ids, doc_texts, guide, query_texts)
        if self.cross_encoder is not None:
            if query_texts is None or doc_texts is None:
                raise DataError("cross_encoder rescoring needs query_texts and doc_texts")
            if not callable(getattr(self.cross_encoder, "predict", None)):
                raise DataError("cross_encoder must have a predict(pairs) method (e.g. a sentence-transformers "
                                "CrossEncoder)")
            data.query_texts = [_text(x) for x in _as_list(query_texts)]
            data.doc_texts = [_text(x) for x in _as_list(doc_texts)]
            if len(data.query_texts) != len(data.queries) or len(data.doc_texts) != len(data.docs):
                raise DataError("cross_encoder rescoring needs one query text per query and one text per document")
        return self._run(data)

    # ------------------------------------------------------------------ steps
    def _prepare(self, qv: Any, dv: Any, qrels: Any, query_ids: Any, doc_ids: Any, doc_texts: Any,
                 guide: Any, query_texts: Any = None) -> _Data:
        import faiss

        queries = _vectors(qv, "query vectors")
        docs = _vectors(dv, "corpus vectors")
        m, n = len(queries), len(docs)
        if n == 0:
            raise DataError("the corpus is empty: there are no documents to mine negatives from")
        if queries.shape[1] != docs.shape[1]:
            raise DataError(f"query vectors have {queries.shape[1]} dimensions but corpus vectors have "
                            f"{docs.shape[1]}; embed both with the same model")
        k = self.num_negatives
        if k >= n:
            raise DataError(f"num_negatives ({k}) must be smaller than the corpus ({n} documents)")
        try:
            q_rows = np.asarray(qrels[0], dtype=np.int64).ravel()
            d_rows = np.asarray(qrels[1], dtype=np.int64).ravel()
        except (TypeError, ValueError, IndexError):
            raise DataError("qrels must be a pair (query rows, document rows) of integer arrays") from None
        if len(q_rows) != len(d_rows):
            raise DataError(f"qrels has {len(q_rows)} query rows but {len(d_rows)} document rows")
        if len(q_rows) == 0:
            raise DataError("qrels has no (query, positive) pairs: nothing to mine")
        if q_rows.min() < 0 or q_rows.max() >= m:
            raise DataError(f"qrels names query row {int(q_rows.max() if q_rows.max() >= m else q_rows.min())} "
                            f"but there are {m} queries")
        if d_rows.min() < 0 or d_rows.max() >= n:
            raise DataError(f"qrels names document row {int(d_rows.max() if d_rows.max() >= n else d_rows.min())} "
                            f"but the corpus has {n} documents")
        # unique pairs, grouped by query (in query-row order), positives in qrels order
        keys = q_rows * n + d_rows
        _, first = np.unique(keys, return_index=True)
        first = np.sort(first)
        q_rows, d_rows = q_rows[first], d_rows[first]
        order = np.argsort(q_rows, kind="stable")
        pair_q, pair_d = q_rows[order], d_rows[order]
        counts = np.bincount(pair_q, minlength=m)
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        max_pos = int(counts.max())
        cos = self.similarity == "cosine"
        queries = _unit(queries) if cos else np.ascontiguousarray(queries, dtype=np.float32)
        docs = _unit(docs) if cos else np.ascontiguousarray(docs, dtype=np.float32)
        index = faiss.IndexFlatIP(docs.shape[1])
        for start in range(0, n, 65536):
            index.add(docs[start:start + 65536])
        qids = np.arange(m) if query_ids is None else query_ids
        dids = np.arange(n) if doc_ids is None else doc_ids
        if len(qids) != m or len(dids) != n:
            raise DataError(f"got {len(qids)} query ids for {m} query vectors and {len(dids)} document ids for "
                            f"{n} corpus vectors; give one id per row")
        for given, name in ((query_ids, "query_ids"), (doc_ids, "doc_ids")):
            if given is not None:
                check_unique(as_arrow(given), None, python=name)
        sub = derived_seed(self.seed_, "negatives")
        texts: list[pa.Array] = []
        if self.duplicate_text and doc_texts is not None:
            from datadiet.dedup._normalize import as_text_array

            texts = [as_text_array(doc_texts, "doc_texts")]
            if len(texts[0]) != n:
                raise DataError(f"got {len(texts[0])} document texts for {n} corpus vectors")
            if query_texts is not None:
                texts.append(as_text_array(query_texts, "query_texts"))
                if len(texts[1]) != m:
                    raise DataError(f"got {len(texts[1])} query texts for {m} query vectors")
        guide_q = guide_d = None
        if guide is not None:
            guide_q, guide_d = _unit(_vectors(guide[0], "guide query vectors")), _unit(
                _vectors(guide[1], "guide corpus vectors"))
            if len(guide_q) != m or len(guide_d) != n or guide_q.shape[1] != guide_d.shape[1]:
                raise DataError(f"guide vectors must have {m} query rows and {n} corpus rows of one dimension; "
                                f"got {guide_q.shape} and {guide_d.shape}")
        text_guard = None
        if texts:  # normalised while the first block is searched (arrow and faiss release the GIL)
            pool = ThreadPoolExecutor(1)
            text_guard = pool.submit(_text_guard, texts, pair_q, pair_d)
            pool.shutdown(wait=False)
        return _Data(queries=queries, docs=docs, index=index, pair_q=pair_q, pair_d=pair_d, indptr=indptr,
                     pos_keys=np.unique(pair_keys(pair_q, pair_d)), text_guard=text_guard,
                     qhash=hash_ids(qids, sub), dhash=hash_ids(dids, sub),
                     tiebreak=hash_ids(dids, 0), guide_q=guide_q, guide_d=guide_d, max_pos=max_pos)

    def _range_max(self, max_pos: int) -> int:
        if self.range_max is not None:
            return int(self.range_max)
        filters = (self.absolute_margin, self.relative_margin, self.max_score)
        if self.strategy != "top" or any(f is not None for f in filters):
            return self.range_min + 10 * self.num_negatives + max_pos
        return self.range_min + self.num_negatives + max_pos

    def _windows(self, d: _Data, rows: np.ndarray, removed: dict[str, int]) -> tuple[np.ndarray, ...]:
        """Candidate windows of the queries ``rows``: (doc rows, scores, valid, lowest positive score)."""
        from datadiet.index._kmeans import faiss_threads

        n = len(d.docs)
        r_max = self._range_max(d.max_pos)
        kk = min(r_max + d.max_pos + 1, n)
        x = d.queries[rows]
        with faiss_threads(float(len(x)) * n * d.docs.shape[1]):
            scores, cand = d.index.search(x, kk)
        # ties broken by a hash of the document id, so corpus row order does not matter
        order = np.lexsort((d.tiebreak[cand], -scores), axis=-1)
        cand = np.take_along_axis(cand, order, axis=1)
        scores = np.take_along_axis(scores, order, axis=1)
        starts, ends = d.indptr[rows], d.indptr[rows + 1]
        counts = ends - starts
        local = np.repeat(np.arange(len(rows)), counts)
        pairs = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(starts, counts)
        pos_scores = np.einsum("pd,pd->p", d.docs[d.pair_d[pairs]], d.queries[d.pair_q[pairs]])
        if self.cross_encoder is not None and d.query_texts is not None and d.doc_texts is not None:
            scores, cand, pos_scores = self._rescore(d, rows, cand, pairs)
        min_pos = np.full(len(rows), np.inf, dtype=np.float32)
        np.minimum.at(min_pos, local, pos_scores)
        gone = np.zeros(cand.shape, dtype=bool)

        def apply(name: str, mask: np.ndarray) -> None:
            new = mask & ~gone
            removed[name] = removed.get(name, 0) + int(new.sum())
            gone[new] = True

        apply("known_positive", known_positive_mask(rows, cand, d.pos_keys))
        if d.text_guard is not None:
            text_hash, pos_text_keys = d.text_guard.result()
            apply("duplicate_text", duplicate_text_mask(rows, cand, text_hash, pos_text_keys))
        if self.near_duplicate is not None:
            pos = padded_positives(rows, d.indptr, d.pair_d)
            apply("near_duplicate", near_duplicate_mask(cand, pos, d.docs, float(self.near_duplicate)))
        if d.guide_q is not None and d.guide_d is not None:
            g_pos = np.einsum("pd,pd->p", d.guide_d[d.pair_d[pairs]], d.guide_q[d.pair_q[pairs]])
            g_min = np.full(len(rows), np.inf, dtype=np.float32)
            np.minimum.at(g_min, local, g_pos)
            apply("guide_veto", guide_veto_mask(d.guide_q[rows], d.guide_d, cand, g_min))
        if self.absolute_margin is not None:
            apply("absolute_margin", scores + float(self.absolute_margin) > min_pos[:, None])
        if self.relative_margin is not None:
            thr = min_pos - np.abs(min_pos) * float(self.relative_margin)
            apply("relative_margin", scores > thr[:, None])
        if self.max_score is not None:
            apply("max_score", scores > float(self.max_score))
        if self.min_score is not None:
            apply("min_score", scores < float(self.min_score))
        # survivors first (in score order), then the window of ranks [range_min, range_max)
        keep = np.argsort(gone, axis=1, kind="stable")[:, self.range_min:r_max]
        cand = np.take_along_axis(cand, keep, axis=1)
        scores = np.take_along_axis(scores, keep, axis=1)
        valid = ~np.take_along_axis(gone, keep, axis=1)
        return cand, scores, valid, pos_scores.astype(np.float32), local

    def _rescore(self, d: _Data, rows: np.ndarray, cand: np.ndarray,
                 pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cross-encoder scores of the candidates (re-ranked) and of the positives."""
        assert d.query_texts is not None and d.doc_texts is not None
        qt, dt = d.query_texts, d.doc_texts
        flat = [(qt[r], dt[c]) for r, row in zip(rows.tolist(), cand.tolist()) for c in row]
        ce = self.cross_encoder
        scores = np.asarray(ce.predict(flat), dtype=np.float32).reshape(cand.shape)
        pos = np.asarray(ce.predict([(qt[a], dt[b]) for a, b in zip(d.pair_q[pairs].tolist(),
                                                                       d.pair_d[pairs].tolist())]),
                         dtype=np.float32).reshape(-1)
        order = np.lexsort((d.tiebreak[cand], -scores), axis=-1)
        return np.take_along_axis(scores, order, axis=1), np.take_along_axis(cand, order, axis=1), pos

    def _estimate_simans(self, d: _Data) -> tuple[float, float]:
        if self.simans_a is not None and self.simans_b is not None:
            return float(self.simans_a), float(self.simans_b)
        rows = np.unique(d.pair_q)
        if len(rows) > SIMANS_SAMPLE:
            rows = np.sort(rows[np.argsort(d.qhash[rows], kind="stable")[:SIMANS_SAMPLE]])
        cand, scores, valid, pos_scores, local = self._windows(d, rows, {})
        gaps = (scores[local] - pos_scores[:, None])[valid[local]]
        if gaps.size == 0:
            return (float(self.simans_a) if self.simans_a is not None else 1.0,
                    float(self.simans_b) if self.simans_b is not None else 0.0)
        b = float(np.median(gaps)) if self.simans_b is None else float(self.simans_b)
        sd = float(np.std(gaps))
        a = (1.0 / (sd * sd) if sd > 0 else 1.0) if self.simans_a is None else float(self.simans_a)
        return a, b

    def _run(self, d: _Data) -> Iterator[MinedBlock]:
        k = self.num_negatives
        removed: dict[str, int] = dict.fromkeys(GUARDS, 0)
        a, b = self._estimate_simans(d) if self.strategy == "simans" else (0.0, 0.0)
        self.simans_a_, self.simans_b_ = a, b
        self.range_max_ = self._range_max(d.max_pos)
        rows_all = np.unique(d.pair_q)
        bs = int(self.batch_size)
        short = 0
        short_queries: set[int] = set()
        for start in range(0, len(rows_all), bs):
            rows = rows_all[start:start + bs]
            cand, scores, valid, pos_scores, local = self._windows(d, rows, removed)
            lo, hi = d.indptr[rows[0]], d.indptr[rows[-1] + 1]
            pq, pd = d.pair_q[lo:hi], d.pair_d[lo:hi]
            wc, ws, wv = cand[local], scores[local], valid[local]
            keys = None
            if self.strategy != "top":
                pair_key = splitmix64(d.qhash[pq] ^ splitmix64(d.dhash[pd]))
                h = splitmix64(pair_key[:, None] ^ d.dhash[wc])
                keys = ((h >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)
            else:
                keys = np.zeros(wc.shape)
            chosen = pick(ws, wv, k, self.strategy, keys=keys, positive_score=pos_scores, a=a, b=b,
                          hard_ratio=float(self.hard_ratio))
            ok = chosen >= 0
            safe = np.maximum(chosen, 0)
            neg = np.where(ok, np.take_along_axis(wc, safe, axis=1), -1)
            neg_s = np.where(ok, np.take_along_axis(ws, safe, axis=1), np.nan).astype(np.float32)
            lacking = ~ok.all(axis=1)
            short += int(lacking.sum())
            short_queries.update(pq[lacking].tolist())
            yield MinedBlock(query=pq, positive=pd, negatives=neg, negative_scores=neg_s, positive_scores=pos_scores)
        self.removed_ = removed
        self.pairs_short_ = short
        self.summary_: dict[str, Any] = {"removed": removed, "pairs": int(len(d.pair_q)), "queries": int(len(rows_all)),
                         "corpus": int(len(d.docs)), "max_positives": d.max_pos, "range_max": self.range_max_,
                         "pairs_short": short, "queries_short": len(short_queries), "seed": self.seed_}
        if self.strategy == "simans":
            self.summary_["simans"] = {"a": a, "b": b}


def score_summary(parts: list[np.ndarray]) -> dict[str, float | int | None]:
    """Count, mean and quantiles of scores collected block by block (for the manifest)."""
    x = np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in parts]) if parts else np.zeros(0)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return {"count": 0}
    q = np.quantile(x, [0.0, 0.25, 0.5, 0.75, 1.0])
    return {"count": int(x.size), "mean": float(x.mean()), "std": float(x.std()), "min": float(q[0]),
            "p25": float(q[1]), "median": float(q[2]), "p75": float(q[3]), "max": float(q[4])}
