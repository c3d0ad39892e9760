"""``datadiet embed``: encode a text column into the cached ``embedding`` signal."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
import numpy as np

from datadiet._core._errors import DataError
from datadiet.cli._common import (
    common_options,
    engine_from,
    engine_options,
    read_options,
    read_params,
    user_errors,
)
from datadiet.io import atomic_path, check_output_path, open_source

EPILOG = """
\b
Examples:
  datadiet embed reviews.jsonl --text text --model minilm        # all-MiniLM-L6-v2, 384-d
  datadiet embed reviews.jsonl --text text --model static        # model2vec static model, fast
  datadiet embed reviews.jsonl --text text --model hashed        # no model: hashed n-gram TF-IDF
  datadiet embed data.parquet --text body --model ./my-st-model -o vectors.npy
\b
Interrupted runs resume: encoded parts are kept in the cache and not recomputed.
Then: datadiet select reviews.jsonl --text text --model minilm --method auto --budget 10% -o sel.parquet
"""


@click.command("embed", epilog=EPILOG)
@click.argument("input")
@click.option("--text", "text_col", metavar="COL", help="Text column to embed (default: the column 'text').")
@click.option("--model", required=True, metavar="MODEL",
              help="minilm, static, hashed[:DIM], or a local sentence-transformers / model2vec folder.")
@click.option("--batch-size", type=int, default=1024, show_default=True,
              help="Rows per encoded part (the unit of resumption).")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Also write the vectors to this .npy file.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --output.")
@engine_options
@common_options
@user_errors
def embed(input: str, text_col: str | None, model: str, batch_size: int, output: Path | None, overwrite: bool,
          quiet: bool, **kw: Any) -> None:
    """Embed the --text column of INPUT with --model and cache it as the 'embedding' signal.

    With --engine ray the files are embedded by a pool of Ray actors, each loading the
    model once; the result and the cache entry are the same as in-process.
    """
    from datadiet.signals import SignalCache, embed_source

    engine = engine_from(kw)

    if output is not None:
        check_output_path(output, overwrite, suffixes=(".npy",))
    source = open_source(input, **read_options(kw))
    by_default = text_col is None
    text_col = text_col or "text"
    if by_default and "text" not in source.column_names:
        raise DataError(f"name the column to embed with --text; columns that exist: {', '.join(source.column_names)}")
    t0 = time.perf_counter()
    stats: dict[str, Any] = {}
    if engine == "local":
        vec = embed_source(source, text_col, model, batch_size=batch_size, on_null=kw.get("on_null") or "skip",
                           stats=stats)
    else:
        from datadiet.engine import embed_on_engine

        vec = embed_on_engine(source, text_col, model, engine, on_null=kw.get("on_null") or "skip")
    seconds = time.perf_counter() - t0
    if output is not None:
        with atomic_path(output) as tmp, open(tmp, "wb") as f:
            np.save(f, np.asarray(vec))
    if quiet:
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"datadiet embed {input}", title_justify="left", show_header=False)
    t.add_row("rows", f"{vec.shape[0]:,}")
    t.add_row("dimensions", str(vec.shape[1]))
    t.add_row("text column", f"{text_col}{' (by default)' if by_default else ''}")
    t.add_row("model", model)
    if stats.get("null_text_rows"):
        how = "embedded as '' (left out of selections as null_text)" if kw.get("on_null") != "empty" \
            else "embedded as ''"
        t.add_row("null texts", f"{stats['null_text_rows']:,} {how}")
    if stats.get("cached"):
        t.add_row("reused", "the cached embedding (nothing computed)")
    t.add_row("seconds", f"{seconds:.1f} ({vec.shape[0] / max(seconds, 1e-9):,.0f} rows/s)")
    cache = SignalCache(source)
    t.add_row("cached in", str(cache.dir) if cache.dir else "(not cached: in-memory input)")
    if output is not None:
        t.add_row("written", str(output))
    Console().print(t)


embed.params[-1:-1] = read_params()  # --encoding, --on-bad-encoding, --on-null: as in every command
