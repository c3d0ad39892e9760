"""``datadiet report``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from datadiet.cli._common import common_options, user_errors
from datadiet.signals import Columns

EPILOG = """
\b
Examples:
  # a selection and the data it was made from
  datadiet select bbc.jsonl --id id --text text --group topic --method balance \\
      --alpha 0 --budget 1000 -o sel.parquet
  datadiet report sel.parquet --input bbc.jsonl -o report.html
\b
  # counts, metrics and groups only (from the selection and its manifest)
  datadiet report sel.parquet -o report.html
\b
The page is one self-contained HTML file (no network): open it in any browser.
Texts, lengths and input groups need --input (or the manifest's input, if it still
exists); the embedding map needs the cached 'embedding' signal of that input.
"""


@click.command("report", epilog=EPILOG)
@click.argument("selection", type=click.Path(path_type=Path))
@click.option("--input", "-i", "data", metavar="DATA",
              help="The data the selection was made from (default: the manifest's input, if it exists).")
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True, help="The .html file to write.")
@click.option("--id", "id_col", metavar="COL", help="Id column (default: from the manifest).")
@click.option("--text", "text_col", metavar="COL", help="Text column (default: from the manifest).")
@click.option("--group", "group_col", metavar="COL", help="Group column (default: from the manifest).")
@click.option("--overwrite", is_flag=True, help="Replace an existing report.")
@common_options
@user_errors
def report(selection: Path, data: str | None, output: Path, id_col: str | None, text_col: str | None,
           group_col: str | None, overwrite: bool, quiet: bool) -> None:
    """Write an HTML report of SELECTION: counts, metrics, groups, lengths, scores, map, examples."""
    from datadiet.io import check_report_path
    from datadiet.report import write_report

    if not selection.exists():  # a missing input before "the output exists"
        raise FileNotFoundError(f"selection {selection} does not exist")
    check_report_path(output, overwrite)
    columns: Any = Columns(id=id_col, text=text_col, group=group_col) if (id_col or text_col or group_col) else None
    path = write_report(selection, output, data=data, overwrite=overwrite, columns=columns)
    if not quiet:
        size = path.stat().st_size / 1e6
        click.echo(f"report: {path} ({size:.1f} MB; open it in a browser)")
