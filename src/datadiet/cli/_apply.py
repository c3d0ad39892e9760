"""``datadiet apply``."""

from __future__ import annotations

from pathlib import Path

import click

from datadiet.cli._common import common_options, read_params, user_errors
from datadiet.io import apply_selection

EPILOG = """
\b
Examples:
  datadiet apply sel.parquet data.jsonl -o kept.jsonl
  datadiet apply sel.parquet shards/ -o kept.parquet --weight-column loss_weight
"""


@click.command("apply", epilog=EPILOG)
@click.argument("selection", type=click.Path(path_type=Path))
@click.argument("input")
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True,
              help="Output file: .parquet, .jsonl (.gz/.zst) or .csv.")
@click.option("--id", "id_col", metavar="COL", help="Id column (default: the one the selection was made with).")
@click.option("--weight-column", default="weight", show_default=True,
              help="Name of the weight column added when weights are not all 1.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output.")
@common_options
@user_errors
def apply(selection: Path, input: str, output: Path, id_col: str | None, weight_column: str,
          overwrite: bool, quiet: bool, encoding: str | None = None,
          on_bad_encoding: str | None = None) -> None:
    """Write the rows of INPUT that SELECTION keeps (with repeats and weights) to OUTPUT.

    INPUT is decoded as the selection's manifest says (--encoding / --on-bad-encoding override it).
    """
    stats = apply_selection(selection, input, output, id_column=id_col, weight_column=weight_column,
                            overwrite=overwrite, encoding=encoding, on_bad_encoding=on_bad_encoding)
    if not quiet:
        click.echo(f"wrote {stats['rows_out']:,} rows (from {stats['rows_in']:,}) to {output}")


# --encoding / --on-bad-encoding (the same options as every command; nulls do not matter to apply)
apply.params[-1:-1] = [p for p in read_params() if p.name != "on_null"]
