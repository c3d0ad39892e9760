"""``datadiet select``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from datadiet._core._errors import DataError
from datadiet.cli._common import columns_from, print_summary, quiet_param, role_params, user_errors
from datadiet.cli._methods import all_specs
from datadiet.cli._methods_basic import SHARED_OPTIONS
from datadiet.engine import load_signals
from datadiet.io import Budget, Selection, check_output_path, manifest_path, open_source

EPILOG = """
\b
Examples:
  # 10% uniformly at random, reproducible by seed
  datadiet select data.jsonl --method random --budget 10% -o sel.parquet
\b
  # 1,000 news articles with topics made equal (alpha 0), rare topics repeated
  datadiet select bbc.jsonl --text text --group topic --method balance \\
      --alpha 0 --mode upsample --max-repeats 3 --budget 1000 -o sel.parquet
\b
  # the best 2M tokens by a quality score
  datadiet select web.parquet --text text --score quality --method topk \\
      --budget 2M-tokens -o sel.parquet
\b
Then write the rows: datadiet apply sel.parquet data.jsonl -o kept.jsonl
"""


def _finish_selection(sel: Selection, source: Any, columns: Any, output: Path, overwrite: bool,
                      input_name: str, report: Path | None = None, data: Any = None) -> Path:
    """Record inputs in the manifest and write selection (+ report) atomically."""
    sel.info.setdefault("input", input_name)
    sel.info["input_fingerprint"] = source.fingerprint()
    sel.info["columns"] = columns.as_dict()
    mpath = sel.write(output, overwrite=overwrite)
    if report is not None:
        from datadiet.report import write_report

        write_report(output, report, data=data, overwrite=overwrite)
    return mpath


def make_select_command() -> click.Command:
    specs = all_specs()
    width = max(len(n) for n in specs) + 2
    methods = "\n".join(f"  {name:<{width}}{s.help}" for name, s in specs.items())

    @user_errors
    def select(input: str, method: str, budget: str | None, output: Path, seed: int, allow_all: bool,
               overwrite: bool, quiet: bool, report: Path | None, engine: str, **kw: Any) -> None:
        spec = specs[method]
        columns = columns_from(kw)
        opts = {"budget": budget, "seed": seed, "allow_all": allow_all, **kw}
        check_output_path(output, overwrite)
        check_output_path(manifest_path(output), overwrite)
        if report is not None:
            check_output_path(report, overwrite)
        source = open_source(input)
        if spec.run is not None:
            sel = spec.run(source, columns, opts)
        else:
            if budget is None and method not in ("threshold",):
                raise DataError(f"--method {method} needs --budget (e.g. 1000, 10% or 5M-tokens)")
            selector = spec.build(opts)  # type: ignore[misc]
            need_tokens = budget is not None and Budget.parse(budget).is_tokens
            sig = load_signals(source, columns, keep_text=spec.keep_text, need_tokens=need_tokens, engine=engine)
            sel = selector.fit(sig).selection_
        mpath = _finish_selection(sel, source, columns, output, overwrite, input, report, data=source)
        paths: dict[str, Any] = {"selection": output, "manifest": mpath}
        if report is not None:
            paths["report"] = report
        print_summary(f"datadiet select --method {method}", sel.manifest(), paths, quiet)

    params: list[click.Parameter] = [
        click.Argument(["input"]),
        click.Option(["--method", "-m"], type=click.Choice(list(specs)), default="random", show_default=True,
                     help="Selection method (see Methods below)."),
        click.Option(["--budget", "-b"], help="Examples (1000), fraction (10% or 0.1) or tokens (50M-tokens)."),
        click.Option(["--output", "-o"], type=click.Path(path_type=Path), required=True,
                     help="Selection file (.parquet); a .manifest.json is written beside it."),
        click.Option(["--seed"], type=int, default=0, show_default=True, help="Seed of every random choice."),
        click.Option(["--allow-all"], is_flag=True, help="Keep everything when the budget exceeds the data."),
        click.Option(["--overwrite"], is_flag=True, help="Replace existing output files."),
        click.Option(["--report"], type=click.Path(path_type=Path), help="Also write an HTML report here."),
        click.Option(["--engine"], type=click.Choice(["local", "ray"]), default="local", show_default=True,
                     help="Read with this engine: in-process, or Ray Data (one task per shard; same result)."),
    ]
    seen = {p.name for p in params}
    extra = [o for s in specs.values() for o in s.options] + SHARED_OPTIONS
    for o in extra:
        if o.name not in seen:
            params.append(o)
            seen.add(o.name)
    params += role_params() + [quiet_param()]
    return click.Command("select", callback=select, params=params,
                         help="Choose a subset of INPUT to a budget and write it as a selection.",
                         epilog=f"\b\nMethods:\n{methods}\n" + EPILOG)
