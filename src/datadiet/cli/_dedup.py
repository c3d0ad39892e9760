"""``datadiet dedup``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from datadiet._core._errors import DataError, MissingExtraError
from datadiet.cli._common import common_options, print_summary, user_errors

EPILOG = """
\b
Examples:
  # exact duplicates after normalisation, then near duplicates at Jaccard 0.8
  datadiet dedup news.jsonl --text text --near 0.8 -o sel.parquet
\b
  # also semantic duplicates (cosine >= 0.95) of an embedding column; keep the longest
  datadiet dedup data.parquet --text text --vectors emb --near 0.8 --semantic 0.95 \\
      --keep longest -o sel.parquet
\b
  # drop training rows that duplicate the evaluation set (contamination check)
  datadiet dedup train.jsonl --text text --near 0.8 --against test.jsonl -o sel.parquet
\b
Then write the rows: datadiet apply sel.parquet data.jsonl -o kept.jsonl
"""


def _build(exact: bool, near: float | None, semantic: float | None, keep: str, score: str | None, seed: int,
           normalize: str, num_perm: int, shingle: str, ngram: int, verify: str, within: bool) -> Any:
    from datadiet.dedup import Dedup, ExactDedup, NearDedup, SemanticDedup

    d = Dedup(exact=ExactDedup(normalize=normalize) if exact else False,
              near=None if near is None else NearDedup(threshold=near, num_perm=num_perm, shingle=shingle,
                                                       ngram=ngram, normalize=normalize, verify=verify),
              semantic=None if semantic is None else SemanticDedup(threshold=semantic),
              keep=keep, score=score, seed=seed, within=within)
    d._check_params()
    d._check_keep()
    return d


def _signals(data: Any, cols: Any, near: Any, model: str | None, what: str) -> Any:
    from datadiet.dedup import minhash_signal
    from datadiet.engine import load_signals
    from datadiet.io import open_source

    source = open_source(data)
    sig = load_signals(source, cols, keep_text=cols.text is not None)
    if near is not None:
        p = {"num_perm": near.num_perm, "shingle": near.shingle, "ngram": near.ngram, "normalize": near.normalize}
        s, c = minhash_signal(source, cols.text, **p)
        from datadiet.dedup._minhash import minhash_params

        sig.extra["minhash"] = {"params": minhash_params(**p), "signatures": s, "counts": c}
    if model is not None:
        try:
            from datadiet.signals import embed_source
        except ImportError:
            raise MissingExtraError("--model needs datadiet.signals.embed_source, which this install lacks; "
                              "give --vectors COL instead") from None
        if cols.text is None:
            raise DataError(f"--model embeds the text of {what}: name the text column with --text")
        import numpy as np

        sig.vectors = np.asarray(embed_source(source, cols.text, model, cache=True), dtype=np.float32)
    return source, sig


@click.command("dedup", epilog=EPILOG)
@click.argument("input")
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True,
              help="Selection file (.parquet); a .manifest.json is written beside it.")
@click.option("--text", "text_col", metavar="COL", help="Text column (needed by --exact and --near).")
@click.option("--id", "id_col", metavar="COL", help="Column of unique ids (default: assign '<file>:<row>').")
@click.option("--exact/--no-exact", default=True, show_default=True,
              help="Drop exact duplicates after normalisation (needs --text).")
@click.option("--near", type=float, metavar="JACCARD", help="Drop near duplicates above this Jaccard (e.g. 0.8).")
@click.option("--semantic", type=float, metavar="COSINE",
              help="Drop semantic duplicates above this cosine (e.g. 0.95); needs --vectors or --model.")
@click.option("--vectors", "vectors_col", metavar="COL", help="Column of embeddings (lists of floats).")
@click.option("--model", metavar="PATH", help="Embed --text with this local model folder or alias (static, minilm).")
@click.option("--against", metavar="EVALSET",
              help="Evaluation set: drop training rows that duplicate it (reason 'contaminated').")
@click.option("--only-against", is_flag=True, help="With --against: drop only contaminated rows, keep other duplicates.")
@click.option("--keep", type=click.Choice(["first", "longest", "score", "random"]), default="first",
              show_default=True, help="Which row of each duplicate cluster is kept.")
@click.option("--score", "score_col", metavar="COL", help="Score column for --keep score (highest kept).")
@click.option("--normalize", default="default", show_default=True,
              help="Normalisation before comparing text: comma list of lower,space,punct,nfkc, or 'none'.")
@click.option("--num-perm", type=int, default=128, show_default=True, help="MinHash permutations.")
@click.option("--shingle", type=click.Choice(["word", "char"]), default="word", show_default=True)
@click.option("--ngram", type=int, default=5, show_default=True, help="Words (or characters) per shingle.")
@click.option("--verify", type=click.Choice(["jaccard", "signature", "none"]), default="jaccard",
              show_default=True, help="Check LSH candidates by true Jaccard, by MinHash estimate, or not.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --keep random and k-means.")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@common_options
@user_errors
def dedup(input: str, output: Path, text_col: str | None, id_col: str | None, exact: bool, near: float | None,
          semantic: float | None, vectors_col: str | None, model: str | None, against: str | None,
          only_against: bool, keep: str, score_col: str | None, normalize: str, num_perm: int, shingle: str,
          ngram: int, verify: str, seed: int, overwrite: bool, quiet: bool) -> None:
    """Find exact, near and semantic duplicates in INPUT and write a selection that drops them.

    Each dropped row names the row it duplicates (column duplicate_of) and the
    method that found it (dup_method).
    """
    from datadiet.cli._select import _finish_selection
    from datadiet.io import check_output_path, manifest_path
    from datadiet.signals import Columns

    if vectors_col and model:
        raise DataError("give either --vectors COL or --model PATH, not both")
    if semantic is not None and not (vectors_col or model):
        raise DataError("--semantic needs embeddings: name a column with --vectors, or a model with --model")
    if (exact or near is not None) and not text_col:
        raise DataError("--exact and --near need the text column: name it with --text (or pass --no-exact)")
    if only_against and not against:
        raise DataError("--only-against needs --against EVALSET")
    d = _build(exact, near, semantic, keep, score_col, seed, normalize, num_perm, shingle, ngram, verify,
               within=not only_against)
    check_output_path(output, overwrite)
    check_output_path(manifest_path(output), overwrite)
    cols = Columns(id=id_col, text=text_col, scores=(score_col,) if score_col else (), vectors=vectors_col)
    nd = d._parts()[1]
    source, sig = _signals(input, cols, nd, model, "INPUT")
    ev = None
    if against is not None:
        ev_cols = Columns(text=text_col, vectors=vectors_col)
        _, ev = _signals(against, ev_cols, None, model, "--against")
    if nd is not None and not quiet:
        click.echo(d._parts()[1].lsh_.tradeoff() if hasattr(nd, "lsh_") else "")
    d.fit(sig, against=ev)
    sel = d.selection_
    if against is not None:
        sel.info["against"] = against
    mpath = _finish_selection(sel, source, cols, output, overwrite, input)
    print_summary("datadiet dedup", sel.manifest(), {"selection": output, "manifest": mpath}, quiet)
    if against is not None and not quiet and d.overlaps_ is not None:
        n = d.overlaps_.num_rows
        click.echo(f"{n:,} training rows duplicate {sel.metrics.get('eval_rows_matched', 0):,} rows of {against}"
                   + (":" if n else "."))
        for row in d.overlaps_.slice(0, 10).to_pylist():
            click.echo(f"  {row['id']}  ->  {row['eval_id']}  ({row['method']})")
        if n > 10:
            click.echo(f"  ... (all {n:,} in {output}: reason 'contaminated', column duplicate_of)")
