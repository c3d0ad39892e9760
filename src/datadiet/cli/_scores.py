"""``datadiet scores``: a recorded run's training dynamics as a signal table (and a data map)."""

from __future__ import annotations

from pathlib import Path

import click

from datadiet.cli._common import common_options, user_errors

EPILOG = """
\b
Examples:
  # during training: rec = DynamicsRecorder(n, num_classes, "dyn"); rec.record(epoch, idx, logits, labels)
  datadiet scores dyn -o scores.parquet --plot map.png
\b
  # with the training data's ids, then prune the easiest 30% by EL2N and write the kept rows
  datadiet scores dyn --input train.jsonl --id id -o scores.parquet
  datadiet select scores.parquet --id id --score el2n --method topk --budget 70% -o sel.parquet
  datadiet apply sel.parquet train.jsonl -o kept.jsonl
\b
Columns: id, label, el2n, grand, forgetting, aum, confidence, variability, correctness, epochs_seen.
"""


@click.command("scores", epilog=EPILOG)
@click.argument("dynamics_dir", type=click.Path(path_type=Path))
@click.option("--output", "-o", type=click.Path(path_type=Path), required=True, help="The .parquet file to write.")
@click.option("--plot", type=click.Path(path_type=Path), default=None,
              help="Also write the data map (confidence vs variability) as a PNG (needs matplotlib).")
@click.option("--input", "-i", "data", metavar="DATA", default=None,
              help="The training data (row i = index i): its ids go into the table (default: ids 0..n-1).")
@click.option("--id", "id_col", metavar="COL", default=None,
              help="Id column of --input (default: assigned '<file>:<row>' ids, as select does).")
@click.option("--epochs", default=None, metavar="LIST",
              help="Epochs for EL2N and GraNd, e.g. '0,1,2' (default: every recorded epoch).")
@click.option("--overwrite", is_flag=True, help="Replace existing outputs.")
@common_options
@user_errors
def scores(dynamics_dir: Path, output: Path, plot: Path | None, data: str | None, id_col: str | None,
           epochs: str | None, overwrite: bool, quiet: bool) -> None:
    """Per-example EL2N, GraNd, forgetting, AUM and data-map scores of a DynamicsRecorder store."""
    import pyarrow.parquet as pq

    from datadiet._core import DataError
    from datadiet.io import atomic_path, check_output_path
    from datadiet.train import DynamicsRecorder, plot_data_map

    if not dynamics_dir.is_dir():
        raise DataError(f"{dynamics_dir}: not a folder; give the folder a DynamicsRecorder wrote")
    check_output_path(output, overwrite)
    if plot is not None:
        check_output_path(plot, overwrite)
        if plot.suffix.lower() != ".png":
            raise DataError(f"--plot {plot}: the data map is written as PNG; give a path ending in .png")
        from importlib.util import find_spec

        if find_spec("matplotlib") is None:
            raise DataError("--plot needs matplotlib: pip install 'datadiet[plot]'")
    wanted = None
    if epochs is not None:
        try:
            wanted = [int(e) for e in epochs.split(",") if e.strip()]
        except ValueError:
            raise DataError(f"--epochs must be a comma-separated list of integers; got {epochs!r}") from None
    if id_col is not None and data is None:
        raise DataError("--id names a column of --input; give the training data with --input")
    rec = DynamicsRecorder.open(dynamics_dir)
    ids = None
    if data is not None:
        from datadiet.engine import load_signals
        from datadiet.signals import Columns

        ids = load_signals(data, Columns(id=id_col)).ids
        if len(ids) != rec.n:
            raise DataError(f"--input {data} has {len(ids)} rows but the recording has n={rec.n} examples; "
                            "give the data the model was trained on (row i = index i)")
    table = rec.scores_table(ids=ids, epochs=wanted)
    with atomic_path(output) as tmp:          # both outputs or neither: renamed only when both are written
        pq.write_table(table, tmp)
        if plot is not None:
            with atomic_path(plot) as tmp_png:
                plot_data_map(rec.scores(wanted), tmp_png, title=f"Data map of {dynamics_dir.name}")
    if not quiet:
        click.echo(f"scores: {output} ({table.num_rows} examples, epochs {rec.epochs_recorded().tolist()})"
                   + (f"; data map: {plot}" if plot is not None else ""))
