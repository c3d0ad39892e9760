"""``datadiet dedup``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from datadiet._core._errors import DataError, MissingExtraError
from datadiet.cli._common import (
    columns_from,
    common_options,
    engine_from,
    engine_options,
    engine_session,
    print_summary,
    read_params,
    source_from,
    user_errors,
)
from datadiet.cli._generate import kwargs_from, options_for

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


_NEAR_ONLY = ("num_perm", "shingle", "ngram", "bands", "rows", "fp_weight", "fn_weight", "verify")
_SEMANTIC_ONLY = ("n_clusters", "search_threshold", "linkage", "n_probe")


def _build(kw: dict[str, Any]) -> Any:
    """The ``Dedup`` the options describe; options of a stage that is off are refused."""
    from datadiet.dedup import Dedup, ExactDedup, NearDedup, SemanticDedup

    near_kw = {k: v for k, v in kwargs_from(NearDedup, kw).items() if k in _NEAR_ONLY + ("normalize",)}
    sem_kw = {k: v for k, v in kwargs_from(SemanticDedup, kw).items() if k in _SEMANTIC_ONLY}
    top = kwargs_from(Dedup, kw)
    Dedup(**{k: v for k, v in top.items() if k in ("near", "semantic")}).validate_params()
    for name, stage_kw, on in (("--near", near_kw, top.get("near")), ("--semantic", sem_kw, top.get("semantic"))):
        unused = [k for k in stage_kw if k != "normalize"]
        if on is None and unused:
            raise DataError(f"--{unused[0].replace('_', '-')} sets {name} dedup, which is off; give {name} THRESHOLD")
    ex_kw = {"normalize": near_kw["normalize"]} if "normalize" in near_kw else {}
    exact = top.pop("exact", True)
    d = Dedup(exact=ExactDedup(**ex_kw) if exact else False,
              near=None if top.get("near") is None else NearDedup(threshold=top["near"], **near_kw),
              semantic=None if top.get("semantic") is None else SemanticDedup(threshold=top["semantic"], **sem_kw),
              **{k: v for k, v in top.items() if k not in ("near", "semantic")}, score=kw.get("score_col"),
              within=not kw.get("only_against"))
    d.validate_params()
    d._check_keep()
    return d


def _dedup_options() -> list[click.Option]:
    from datadiet.dedup import Dedup, NearDedup, SemanticDedup

    return [*options_for(Dedup),
            *[o for o in options_for(NearDedup) if o.name in _NEAR_ONLY + ("normalize",)],
            *[o for o in options_for(SemanticDedup) if o.name in _SEMANTIC_ONLY]]


def _signals(data: Any, cols: Any, near: Any, model: str | None, what: str, engine: Any = "local") -> Any:
    from datadiet.dedup import minhash_signal
    from datadiet.dedup._minhash import minhash_params
    from datadiet.engine import load_signals, minhash_on_engine
    from datadiet.io import open_source
    from datadiet.signals import MinHashSignal, SignalCache

    source = open_source(data)
    sig = load_signals(source, cols, keep_text=cols.text is not None, engine=engine)
    if near is not None:
        p = {"num_perm": near.num_perm, "shingle": near.shingle, "ngram": near.ngram, "normalize": near.normalize}
        if engine == "local":
            s, c = minhash_signal(source, cols.text, **p)
        else:  # signatures on the workers, cached like minhash_signal's so a later local run reuses them
            key = {**minhash_params(**p), "column": cols.text}
            store = SignalCache(source)
            hit, hit_c = store.load_vectors("minhash", key), store.load_vectors("minhash_count", key)
            if hit is not None and hit_c is not None:
                s, c = hit, hit_c
            else:
                s, c = minhash_on_engine(source, cols.text, engine, **p)
                if store.enabled:
                    store.save_vectors("minhash", key, s)
                    store.save_vectors("minhash_count", key, c)
        sig.minhash = MinHashSignal(minhash_params(**p), s, c)
    if model is not None:
        try:
            from datadiet.signals import embed_source
        except ImportError:
            raise MissingExtraError("--model needs datadiet.signals.embed_source, which this install lacks; "
                              "give --vectors COL instead") from None
        if cols.text is None:
            raise DataError(f"--model embeds the text of {what}: name the text column with --text")
        import numpy as np

        if engine == "local":
            vec = embed_source(source, cols.text, model, cache=True, on_null=cols.on_null)
        else:  # null texts as on the local engine: embedded as '', left out as null_text with --on-null skip
            from datadiet.engine import embed_on_engine

            vec = embed_on_engine(source, cols.text, model, engine, on_null=cols.on_null)
        sig.vectors = np.asarray(vec, dtype=np.float32)
    return source, sig


@click.command("dedup", epilog=EPILOG)
@click.argument("input")
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True,
              help="Selection file (.parquet); a .manifest.json is written beside it.")
@click.option("--text", "text_col", metavar="COL", help="Text column (needed by --exact and --near).")
@click.option("--id", "id_col", metavar="COL", help="Column of unique ids (default: assign '<file>:<row>').")
@click.option("--vectors", "vectors_col", metavar="COL", help="Column of embeddings (lists of floats).")
@click.option("--model", metavar="PATH", help="Embed --text with this local model folder or alias (static, minilm).")
@click.option("--against", metavar="EVALSET",
              help="Evaluation set: drop training rows that duplicate it (reason 'contaminated').")
@click.option("--only-against", is_flag=True, help="With --against: drop only contaminated rows, keep other duplicates.")
@click.option("--score", "score_col", metavar="COL", help="Score column for --keep score (highest kept).")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@engine_options
@common_options
@user_errors
def dedup(input: str, output: Path, text_col: str | None, id_col: str | None, vectors_col: str | None,
          model: str | None, against: str | None, only_against: bool, score_col: str | None, overwrite: bool,
          quiet: bool, **kw: Any) -> None:
    """Find exact, near and semantic duplicates in INPUT and write a selection that drops them.

    Each dropped row names the row it duplicates (column duplicate_of) and the
    method that found it (dup_method).
    """
    from datadiet.cli._select import finish_selection
    from datadiet.io import check_output_path, manifest_path
    from datadiet.signals import Columns

    if vectors_col and model:
        raise DataError("give either --vectors COL or --model PATH, not both")
    source = source_from(input, kw)  # a missing input is named before an existing output
    ev_source = source_from(against, kw) if against is not None else None
    cols = columns_from({"id_col": id_col, "text_col": text_col, "vectors_col": vectors_col,
                         "score_cols": (score_col,) if score_col else (), "on_null": kw.get("on_null")}, source)
    near, semantic, exact = kw.get("near"), kw.get("semantic"), kw.get("exact") is not False
    if semantic is not None and not (vectors_col or model):
        raise DataError("--semantic needs embeddings: name a column with --vectors, or a model with --model")
    if (exact or near is not None) and not cols.text:
        raise DataError("--exact and --near need the text column: name it with --text (or pass --no-exact)")
    if only_against and not against:
        raise DataError("--only-against needs --against EVALSET")
    engine = engine_from(kw)
    d = _build({**kw, "score_col": score_col, "only_against": only_against})
    if getattr(engine, "name", engine) not in d.engines:
        raise DataError(f"{type(d).__name__} runs on the local engine only; drop --engine ray")
    check_output_path(output, overwrite, suffixes=(".parquet",))
    check_output_path(manifest_path(output), overwrite)
    nd = d._parts()[1]
    if nd is not None and not quiet:
        click.echo(nd.banding().tradeoff())
    if against is None and semantic is None and source.files:
        # files, exact and near only: keys spilled to partitions, grouped by engine tasks, bounded memory
        from datadiet.engine import dedup_streamed, load_signals

        with engine_session(engine):
            sig = load_signals(source, cols, keep_text=False, engine=engine)
            dedup_streamed(source, str(cols.text), d, sig, engine, on_null=cols.on_null)
    else:
        with engine_session(engine):
            source, sig = _signals(source, cols, nd, model, "INPUT", engine)
            ev = None
            if against is not None:
                ev_cols = Columns(text=cols.text, vectors=vectors_col, on_null=cols.on_null)
                _, ev = _signals(ev_source, ev_cols, None, model, "--against", engine)
        d.fit(sig, against=ev)
    sel = d.selection_
    if against is not None:
        sel.info["against"] = against
    mpath = finish_selection(sel, source, cols, output, overwrite, input)
    print_summary("datadiet dedup", sel.manifest(), {"selection": output, "manifest": mpath}, quiet)
    if against is not None and not quiet and d.overlaps_ is not None:
        n = d.overlaps_.num_rows
        click.echo(f"{n:,} training rows duplicate {sel.metrics.get('eval_rows_matched', 0):,} rows of {against}"
                   + (":" if n else "."))
        for row in d.overlaps_.slice(0, 10).to_pylist():
            click.echo(f"  {row['id']}  ->  {row['eval_id']}  ({row['method']})")
        if n > 10:
            click.echo(f"  ... (all {n:,} in {output}: reason 'contaminated', column duplicate_of)")


dedup.params[2:2] = [*_dedup_options(), *read_params()]
