"""``datadiet info``."""

from __future__ import annotations

from typing import Any

import click
import numpy as np

from datadiet.cli._common import (
    columns_from,
    common_options,
    role_options,
    source_from,
    user_errors,
)
from datadiet.engine import load_signals
from datadiet.signals import SignalCache

EPILOG = """
\b
Examples:
  datadiet info data.jsonl
  datadiet info shards/ --text text --group lang     # token totals and rows per language
"""


@click.command("info", epilog=EPILOG)
@click.argument("input")
@role_options
@common_options
@user_errors
def info(input: str, quiet: bool, **kw: Any) -> None:
    """Describe INPUT: rows, columns, token totals, group counts and cached signals."""
    from rich.console import Console
    from rich.table import Table

    source = source_from(input, kw)
    columns = columns_from(kw, source)
    sig = load_signals(source, columns, need_tokens=bool(columns.text or columns.tokens))
    console = Console()
    t = Table(title=f"{input}", title_justify="left", show_header=False)
    t.add_row("rows", f"{len(sig):,}")
    t.add_row("files", f"{len(source.files):,}" if source.files else "in memory")
    t.add_row("columns", ", ".join(f"{f.name} ({f.type})" for f in source.schema))
    by_default = " (by default)" if columns.id and not kw.get("id_col") else ""
    t.add_row("ids", f"column {columns.id!r}{by_default}" if columns.id else "assigned '<file>:<row>'")
    if sig.tokens is not None:
        how = f"column {columns.tokens!r}" if columns.tokens else "estimated, UTF-8 bytes / 4"
        t.add_row("tokens", f"{int(sig.tokens.sum()):,} ({how}); mean {sig.tokens.mean():.1f} per row")
    n_null = (sig.origin.get("read") or {}).get("null_text_rows")
    if n_null:
        how = {"skip": "left out of selections as null_text", "empty": "read as ''"}.get(columns.on_null, "")
        t.add_row("null texts", f"{n_null:,} ({how}; --on-null)")
    for name, s in sig.scores.items():
        t.add_row(f"score {name}", f"min {s.min():.4g}, mean {s.mean():.4g}, max {s.max():.4g}")
    if sig.vectors is not None:
        t.add_row("vectors", f"{sig.vectors.shape[1]} dimensions")
    t.add_row("fingerprint", source.fingerprint())
    console.print(t)
    if sig.groups is not None:
        counts = np.bincount(sig.groups, minlength=len(sig.group_names))
        g = Table(title=f"rows per {columns.group or columns.label}", title_justify="left")
        g.add_column("group")
        g.add_column("rows", justify="right")
        g.add_column("share", justify="right")
        for i in np.argsort(-counts, kind="stable")[:100]:
            g.add_row(sig.group_names[i], f"{counts[i]:,}", f"{100 * counts[i] / len(sig):.1f}%")
        console.print(g)
    cache = SignalCache(source)
    entries = cache.entries()
    c = Table(title=f"cached signals ({cache.dir})" if cache.dir else "cached signals", title_justify="left")
    c.add_column("signal")
    c.add_column("parameters")
    c.add_column("size", justify="right")
    for e in entries:
        c.add_row(e["name"], ", ".join(f"{k}={v}" for k, v in e.get("params", {}).items()), f"{e['bytes']:,} B")
    if not entries:
        c.add_row("(none)", "", "")
    console.print(c)
