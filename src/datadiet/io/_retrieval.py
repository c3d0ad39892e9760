"""Read retrieval collections (BEIR folders, separate files, pairs datasets); write negatives records.

A collection is queries, a corpus and qrels (relevant (query, document) pairs):

* :func:`read_beir` -- a BEIR folder: ``corpus.jsonl`` (``_id``, ``title``, ``text``),
  ``queries.jsonl`` (``_id``, ``text``) and ``qrels/<split>.tsv`` (header
  ``query-id corpus-id score``; pairs with score > 0 are relevant);
* :func:`read_separate` -- queries, corpus and qrels in any format :func:`open_source` reads;
* :func:`read_pairs` -- a sentence-transformers pairs dataset (``anchor``, ``positive``):
  distinct anchors are the queries, distinct positives (plus an optional extra corpus)
  the documents.

:func:`write_records` streams tables to Parquet or JSONL through a temporary file
and writes the JSON manifest beside it; nothing appears unless all went well.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from datadiet._core._errors import DataError
from datadiet.io._atomic import atomic_path, check_output_path
from datadiet.io._read import Source, open_source
from datadiet.io._selection import _jsonable, manifest_path

__all__ = ["Collection", "read_beir", "read_separate", "read_pairs", "write_records", "RECORD_SUFFIXES"]

RECORD_SUFFIXES = (".parquet", ".jsonl")


@dataclass
class Collection:
    """Queries, corpus and relevant pairs (row numbers) of a retrieval collection."""

    query_ids: pa.Array
    query_texts: pa.Array | None
    doc_ids: pa.Array
    doc_texts: pa.Array | None
    qrels_query: np.ndarray
    qrels_doc: np.ndarray
    queries: Source | pa.Table
    corpus: Source | pa.Table
    query_vectors: np.ndarray | None = None
    doc_vectors: np.ndarray | None = None
    text_column: str = "text"


def _vectors_of(col: pa.ChunkedArray | pa.Array, name: str, where: str) -> np.ndarray:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if not (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)
            or pa.types.is_fixed_size_list(arr.type)):
        raise DataError(f"column {name!r} of {where} must hold lists of numbers (vectors); found {arr.type}")
    if arr.null_count:
        raise DataError(f"column {name!r} of {where} has {arr.null_count} missing vectors")
    lengths = pc.list_value_length(arr).to_numpy(zero_copy_only=False)
    if len(lengths) and (lengths != lengths[0]).any():
        bad = int(np.nonzero(lengths != lengths[0])[0][0])
        raise DataError(f"column {name!r} of {where}: row {bad} has {lengths[bad]} numbers but row 0 has "
                        f"{lengths[0]}; every vector needs the same dimension")
    flat = pc.list_flatten(arr).to_numpy(zero_copy_only=False).astype(np.float32)
    return flat.reshape(len(arr), int(lengths[0]) if len(lengths) else 0)


def _read_table(src: Source, columns: list[str | None]) -> pa.Table:
    cols = [c for c in dict.fromkeys(columns) if c is not None]
    src.check_columns(cols)
    parts = [b.table for b in src.batches(cols)]
    if not parts:
        return pa.table({c: pa.array([], pa.string()) for c in cols})
    return pa.concat_tables(parts, promote_options="permissive")


def _ids(col: pa.ChunkedArray, name: str, where: str) -> pa.Array:
    arr = col.combine_chunks()
    if arr.null_count:
        raise DataError(f"column {name!r} of {where} has {arr.null_count} missing ids")
    arr = arr.cast(pa.string())
    if pc.count_distinct(arr).as_py() != len(arr):
        counts = pc.value_counts(arr)
        dup = [v["values"] for v in counts.to_pylist() if v["counts"] > 1][0]
        raise DataError(f"{where}: id {dup!r} appears more than once; ids must be unique")
    return arr


def _texts(col: pa.ChunkedArray, name: str, where: str) -> pa.Array:
    arr = col.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        raise DataError(f"column {name!r} of {where} must hold text; found {arr.type}")
    return arr.fill_null("")


def _load_side(path: Any, id_col: str, text_col: str, vectors: str | None, what: str,
               title_col: str | None = None) -> tuple[Source, pa.Array, pa.Array, np.ndarray | None]:
    src = open_source(path)
    t = _read_table(src, [id_col, text_col, vectors])
    if t.num_rows == 0 and what == "corpus":
        raise DataError(f"the corpus {src.name} is empty: there are no documents to mine negatives from")
    if t.num_rows == 0:
        raise DataError(f"the queries file {src.name} has no rows")
    ids = _ids(t.column(id_col), id_col, src.name)
    texts = _texts(t.column(text_col), text_col, src.name)
    vec = _vectors_of(t.column(vectors), vectors, src.name) if vectors else None
    return src, ids, texts, vec


def _read_qrels(path: Any, query_ids: pa.Array, doc_ids: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(2, "no such qrels file", str(p))
    if p.suffix.lower() == ".tsv":
        try:
            t = pacsv.read_csv(p, parse_options=pacsv.ParseOptions(delimiter="\t"),
                               convert_options=pacsv.ConvertOptions(
                                   column_types={"query-id": pa.string(), "corpus-id": pa.string()}))
        except pa.ArrowInvalid as e:
            raise DataError(f"{p}: malformed qrels ({str(e).splitlines()[0]})") from None
        src_name = str(p)
    else:
        src = open_source(p)
        t = _read_table(src, ["query-id", "corpus-id", "score" if "score" in src.column_names else None])
        src_name = src.name
    missing = [c for c in ("query-id", "corpus-id") if c not in t.column_names]
    if missing:
        raise DataError(f"{src_name}: qrels need the columns 'query-id' and 'corpus-id' (header line "
                        f"'query-id corpus-id score'); columns that exist: {', '.join(t.column_names)}")
    qcol = t.column("query-id").cast(pa.string()).combine_chunks()
    dcol = t.column("corpus-id").cast(pa.string()).combine_chunks()
    if "score" in t.column_names:
        keep = pc.greater(t.column("score").cast(pa.float64()), 0).combine_chunks().fill_null(False)
    else:
        keep = pa.array(np.ones(len(qcol), bool))
    qi = pc.index_in(qcol, value_set=query_ids)
    di = pc.index_in(dcol, value_set=doc_ids)
    for what, idx, col in (("query", qi, qcol), ("corpus", di, dcol)):
        if idx.null_count:
            bad = int(np.nonzero(idx.is_null().to_numpy(zero_copy_only=False))[0][0])
            raise DataError(f"{src_name}: line {bad + 2}: unknown {what} id {col[bad].as_py()!r} "
                            f"(not in the {'queries' if what == 'query' else 'corpus'}); fix the qrels or the ids")
    k = keep.to_numpy(zero_copy_only=False)
    q = qi.to_numpy(zero_copy_only=False).astype(np.int64)[k]
    d = di.to_numpy(zero_copy_only=False).astype(np.int64)[k]
    if len(q) == 0:
        raise DataError(f"{src_name} has no relevant pairs (score > 0): nothing to mine")
    return q, d


def read_beir(folder: Any, split: str = "train", *, vectors: str | None = None) -> Collection:
    """Read a BEIR folder; ``vectors`` names a column of precomputed vectors in both JSONL files.

    Examples
    --------
    >>> import tempfile, pathlib, json
    >>> d = pathlib.Path(tempfile.mkdtemp()); (d / "qrels").mkdir()
    >>> _ = (d / "corpus.jsonl").write_text('{"_id": "d1", "title": "", "text": "a cat"}\\n'
    ...                                    '{"_id": "d2", "title": "", "text": "a dog"}\\n')
    >>> _ = (d / "queries.jsonl").write_text('{"_id": "q1", "text": "cat?"}\\n')
    >>> _ = (d / "qrels" / "train.tsv").write_text("query-id\\tcorpus-id\\tscore\\nq1\\td1\\t1\\n")
    >>> c = read_beir(d)
    >>> c.qrels_query.tolist(), c.qrels_doc.tolist()
    ([0], [0])
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(2, "no such BEIR folder", str(root))
    for name in ("corpus.jsonl", "queries.jsonl"):
        if not (root / name).exists():
            raise DataError(f"{root} is not a BEIR folder: {name} is missing")
    qrels = root / "qrels" / f"{split}.tsv"
    if not qrels.exists():
        have = sorted(p.stem for p in (root / "qrels").glob("*.tsv")) if (root / "qrels").is_dir() else []
        raise DataError(f"{qrels} is missing; splits that exist: {', '.join(have) or '(none)'}")
    csrc, dids, dtexts, dvec = _load_side(root / "corpus.jsonl", "_id", "text", vectors, "corpus")
    qsrc, qids, qtexts, qvec = _load_side(root / "queries.jsonl", "_id", "text", vectors, "queries")
    q, d = _read_qrels(qrels, qids, dids)
    return Collection(qids, qtexts, dids, dtexts, q, d, qsrc, csrc, qvec, dvec)


def read_separate(queries: Any, corpus: Any, qrels: Any, *, id_column: str = "id", text_column: str = "text",
                  vectors: str | None = None) -> Collection:
    """Read queries, corpus and qrels from three files (``id_column`` / ``text_column`` name the columns)."""
    csrc, dids, dtexts, dvec = _load_side(corpus, id_column, text_column, vectors, "corpus")
    qsrc, qids, qtexts, qvec = _load_side(queries, id_column, text_column, vectors, "queries")
    q, d = _read_qrels(qrels, qids, dids)
    return Collection(qids, qtexts, dids, dtexts, q, d, qsrc, csrc, qvec, dvec, text_column)


def read_pairs(pairs: Any, *, anchor: str = "anchor", positive: str = "positive", corpus: Any = None,
               text_column: str = "text") -> Collection:
    """Read a pairs dataset: distinct anchors are queries; distinct positives (+ ``corpus`` texts) documents.

    Query ids are ``q<n>`` and document ids ``d<n>``, numbered in order of first appearance.
    """
    src = open_source(pairs)
    t = _read_table(src, [anchor, positive])
    if t.num_rows == 0:
        raise DataError(f"the pairs dataset {src.name} has no rows")
    a = _texts(t.column(anchor), anchor, src.name)
    p = _texts(t.column(positive), positive, src.name)
    extra = None
    if corpus is not None:
        csrc = open_source(corpus)
        extra = _texts(_read_table(csrc, [text_column]).column(text_column), text_column, csrc.name)
    qtexts = pc.unique(a)
    docs = pa.concat_arrays([p.cast(pa.large_string())] + ([extra.cast(pa.large_string())] if extra is not None
                                                                 else []))
    dtexts = pc.unique(docs)
    q = pc.index_in(a, value_set=qtexts).to_numpy(zero_copy_only=False).astype(np.int64)
    d = pc.index_in(p.cast(pa.large_string()), value_set=dtexts).to_numpy(zero_copy_only=False).astype(np.int64)
    qids = pa.array([f"q{i}" for i in range(len(qtexts))])
    dids = pa.array([f"d{i}" for i in range(len(dtexts))])
    qtab = pa.table({"id": qids, "text": qtexts.cast(pa.string())})
    dtab = pa.table({"id": dids, "text": dtexts.cast(pa.string())})
    return Collection(qids, qtab.column("text").combine_chunks(), dids, dtab.column("text").combine_chunks(),
                      q, d, qtab, dtab)


def write_records(path: Any, tables: Iterable[pa.Table], manifest: Callable[[], dict[str, Any]], *,
                  overwrite: bool = False) -> tuple[Path, Path]:
    """Stream ``tables`` to ``path`` (``.parquet`` or ``.jsonl``) and write the manifest beside it.

    Both files are written to temporary names and renamed only when every table
    was written; an error on the way leaves nothing behind.
    """
    out = Path(path)
    if out.suffix.lower() not in RECORD_SUFFIXES:
        raise DataError(f"output {out} must end in .parquet or .jsonl")
    check_output_path(out, overwrite)
    mpath = manifest_path(out)
    with atomic_path(out) as tmp:
        rows = 0
        if out.suffix.lower() == ".parquet":
            writer: pq.ParquetWriter | None = None
            try:
                for t in tables:
                    if writer is None:
                        writer = pq.ParquetWriter(tmp, t.schema)
                    writer.write_table(t.cast(writer.schema))
                    rows += t.num_rows
            finally:
                if writer is not None:
                    writer.close()
        else:
            with open(tmp, "w", encoding="utf-8") as f:
                for t in tables:
                    for row in t.to_pylist():
                        f.write(json.dumps(row, ensure_ascii=False) + "\n")
                    rows += t.num_rows
        info = manifest()
        info["rows"] = rows
        with atomic_path(mpath) as mtmp:
            mtmp.write_text(json.dumps(_jsonable(info), indent=2) + "\n", encoding="utf-8")
    return out, mpath
