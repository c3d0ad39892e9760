"""``datadiet negatives``: mine hard negatives for a retrieval collection."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from datadiet._core._errors import DataError
from datadiet.cli._common import common_options, user_errors
from datadiet.cli._generate import kwargs_from, options_for
from datadiet.negatives import HardNegativeMiner

EPILOG = """
\b
Examples:
  datadiet negatives --beir DIR --split train --model minilm --num-negatives 5 --strategy simans -o neg.parquet
  datadiet negatives --queries q.jsonl --corpus c.jsonl --qrels qrels.tsv --vectors emb \\
      --range-min 10 --range-max 50 --absolute-margin 0.05 --format n-tuple --with-text -o neg.parquet
  datadiet negatives --pairs pairs.jsonl --anchor question --positive answer --model minilm -o neg.jsonl
"""


def _collection(beir: str | None, split: str, queries: str | None, corpus: str | None, qrels: str | None,
                pairs: str | None, anchor: str, positive: str, id_col: str, text_col: str,
                vectors: str | None) -> Any:
    from datadiet.io._retrieval import read_beir, read_pairs, read_separate

    separate = [x for x in (queries, qrels) if x is not None]
    if sum([beir is not None, bool(separate), pairs is not None]) != 1:
        raise DataError("give exactly one input: --beir DIR, or --queries Q --corpus C --qrels R, "
                        "or --pairs FILE (optionally with --corpus)")
    if beir is not None:
        if corpus is not None:
            raise DataError("--corpus does not go with --beir (the folder has corpus.jsonl)")
        return read_beir(beir, split, vectors=vectors)
    if pairs is not None:
        if vectors is not None:
            raise DataError("--vectors needs --beir or --queries/--corpus/--qrels; embed pairs with --model")
        return read_pairs(pairs, anchor=anchor, positive=positive, corpus=corpus, text_column=text_col)
    if queries is None or corpus is None or qrels is None:
        raise DataError("separate files need all three of --queries, --corpus and --qrels")
    return read_separate(queries, corpus, qrels, id_column=id_col, text_column=text_col, vectors=vectors)


def _embed(col: Any, model: str) -> tuple[Any, Any]:
    from datadiet.signals import embed_source

    qv = embed_source(col.queries, col.text_column, model)
    dv = embed_source(col.corpus, col.text_column, model)
    return qv, dv


@click.command("negatives", epilog=EPILOG)
@click.option("--beir", metavar="DIR", help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.")
@click.option("--split", default="train", show_default=True, help="Qrels split of --beir.")
@click.option("--queries", metavar="FILE", help="Queries file (columns --id, --text).")
@click.option("--corpus", metavar="FILE", help="Corpus file (columns --id, --text); with --pairs: extra documents.")
@click.option("--qrels", metavar="FILE", help="Relevant pairs: columns query-id, corpus-id (score > 0 if present).")
@click.option("--pairs", metavar="FILE", help="Pairs dataset (columns --anchor, --positive).")
@click.option("--anchor", default="anchor", show_default=True, metavar="COL", help="Query column of --pairs.")
@click.option("--positive", default="positive", show_default=True, metavar="COL", help="Positive column of --pairs.")
@click.option("--id", "id_col", default="id", show_default=True, metavar="COL", help="Id column of --queries/--corpus.")
@click.option("--text", "text_col", default="text", show_default=True, metavar="COL", help="Text column.")
@click.option("--vectors", metavar="COL", help="Column of precomputed vectors in the queries and the corpus.")
@click.option("--model", metavar="MODEL", help="minilm, static, hashed[:DIM] or a local model folder (cached).")
@click.option("--format", "fmt", type=click.Choice(["triplet", "n-tuple", "labeled-pair"]), default="triplet",
              show_default=True, help="Record shape (sentence-transformers' column names).")
@click.option("--with-text", is_flag=True, help="Add the texts (anchor, positive, negative...) beside the ids.")
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True,
              help="Output .parquet or .jsonl; a .manifest.json is written beside it.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output.")
@common_options
@user_errors
def negatives(beir: str | None, split: str, queries: str | None, corpus: str | None, qrels: str | None,
              pairs: str | None, anchor: str, positive: str, id_col: str, text_col: str, vectors: str | None,
              model: str | None, fmt: str, with_text: bool, output: Path, overwrite: bool, quiet: bool,
              **opts: Any) -> None:
    """Mine hard negatives with false-negative guards for (query, positive) pairs."""
    from datadiet.io import check_output_path, manifest_path
    from datadiet.io._retrieval import RECORD_SUFFIXES, write_records
    from datadiet.negatives._records import records_table

    if (vectors is None) == (model is None):
        raise DataError("give exactly one of --model (embed the texts) or --vectors COL (precomputed vectors)")
    miner = HardNegativeMiner(**kwargs_from(HardNegativeMiner, opts))
    miner.validate_params()
    col = _collection(beir, split, queries, corpus, qrels, pairs, anchor, positive, id_col, text_col, vectors)
    check_output_path(output, overwrite, suffixes=RECORD_SUFFIXES)  # a missing input is named first
    check_output_path(manifest_path(output), overwrite)
    t0 = time.perf_counter()
    qv, dv = (col.query_vectors, col.doc_vectors) if vectors is not None else _embed(col, str(model))
    t_embed = time.perf_counter() - t0
    blocks = miner.iter_blocks(qv, dv, (col.qrels_query, col.qrels_doc), query_ids=col.query_ids,
                               doc_ids=col.doc_ids, doc_texts=col.doc_texts, query_texts=col.query_texts)
    qt, dt = (col.query_texts, col.doc_texts) if with_text else (None, None)
    stats: dict[str, list[Any]] = {"pos": [], "neg": []}

    def tables() -> Any:
        for b in blocks:
            stats["pos"].append(b.positive_scores)
            stats["neg"].append(b.negative_scores[b.negatives >= 0])
            yield records_table(b, fmt, col.query_ids, col.doc_ids, qt, dt)

    def manifest() -> dict[str, Any]:
        from datadiet import __version__
        from datadiet.negatives._miner import score_summary

        return {"method": miner.method, "datadiet_version": __version__, "params": miner.manifest_params(),
                "seed": miner.seed_, "format": fmt, "with_text": with_text,
                "input": {"beir": beir, "split": split if beir else None, "queries": queries, "corpus": corpus,
                          "qrels": qrels, "pairs": pairs, "vectors": vectors, "model": model},
                **miner.summary_, "scores": {"positive": score_summary(stats["pos"]),
                                             "negative": score_summary(stats["neg"])},
                "seconds": {"embed": round(t_embed, 3), "mine_and_write": round(time.perf_counter() - t1, 3)}}

    t1 = time.perf_counter()
    out, mpath = write_records(output, tables(), manifest, overwrite=overwrite)
    if not quiet:
        s = miner.summary_
        removed = ", ".join(f"{k} {v:,}" for k, v in s["removed"].items() if v)
        click.echo(f"{s['pairs']:,} pairs of {s['queries']:,} queries, corpus {s['corpus']:,}: "
                   f"{s['pairs_short']:,} pairs short of {miner.num_negatives} negatives; removed: {removed or 'none'}")
        click.echo(f"written {out} and {mpath}")


# the miner's declared parameters (--num-negatives, --strategy, --range-min ...) as options
negatives.params[-3:-3] = options_for(HardNegativeMiner)
