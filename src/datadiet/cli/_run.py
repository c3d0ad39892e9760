"""``datadiet run RECIPE -o OUTDIR``: the steps of a recipe, validated up front, resumable.

Each step runs its CLI command in-process on the rows the previous steps kept; its
selection and manifest go to ``OUTDIR/NN-command/``; ``OUTDIR/selection.parquet`` (+
manifest) chains them all. A step whose command, options and input are unchanged is
not run again; a killed run restarts at the step it was in, whose outputs were never
half-written; ``--force STEP`` recomputes one step.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from datadiet._core import DataError, ParamError
from datadiet.cli._common import user_errors
from datadiet.io import Selection, apply_selection, chain, check_output_path, open_source
from datadiet.recipes import Recipe, RecipeStep, RunState, load_recipe, step_key

__all__ = ["run"]

EPILOG = """
\b
Example recipe (curate.yaml):
  input: data/*.jsonl
  columns: {id: id, text: text, group: domain}
  steps:
    - dedup: {exact: true, near: 0.8}
    - select: {method: balance, alpha: 0.5, budget: 50%}
    - apply: {output: train.jsonl}
\b
  datadiet run curate.yaml -o out/
  datadiet run curate.yaml -o out/ --input other/*.jsonl    # the same recipe on other data
  datadiet run curate.yaml -o out/ --force 2                # recompute step 2 (and what depends on it)
"""

#: Column added to the rows passed between steps when the input has no id column.
CARRIED_ID = "datadiet_id"


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _command(root: click.Group, step: RecipeStep) -> tuple[click.Command, list[str], str]:
    """The click command a step runs, the arguments before the input, and its display name."""
    ctx = click.Context(root)
    cmd = root.get_command(ctx, step.command)
    if cmd is None:
        raise DataError(f"{step.label()}: no command {step.command!r}")
    if isinstance(cmd, click.Group):
        method = str(step.options.get("method", "random"))
        sub = cmd.get_command(ctx, method)
        if sub is None:
            raise DataError(f"{step.label()}: unknown method {method!r}; the methods are: "
                            f"{', '.join(cmd.list_commands(ctx))}")
        return sub, [], f"{step.command} {method}"
    return cmd, [], step.command


def _option_args(cmd: click.Command, step: RecipeStep, options: dict[str, Any]) -> list[str]:
    known = {o.name: o for o in cmd.params if isinstance(o, click.Option)}
    by_flag = {f: o for o in known.values() for f in (*o.opts, *o.secondary_opts)}
    args: list[str] = []
    for key, value in options.items():
        flag = _flag(key)
        opt = by_flag.get(flag)
        if opt is None:
            raise DataError(f"{step.label()}: no option {key!r} (the command's options are: "
                            f"{', '.join(sorted(n for n in known if n not in ('quiet', 'debug', 'output')))})")
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                args.append(opt.opts[0] if opt.is_flag and not opt.secondary_opts else flag)
            elif opt.secondary_opts:
                args.append(opt.secondary_opts[0])
            continue
        for v in value if isinstance(value, list) and opt.multiple else [value]:
            args += [flag, json.dumps(v) if isinstance(v, dict) else str(v)]
    return args


def _role_args(cmd: click.Command, columns: dict[str, Any], id_column: str | None) -> list[str]:
    """The recipe's columns as the role options the command has (``dedup`` has no ``--group``)."""
    flags = {f for o in cmd.params for f in getattr(o, "opts", [])}
    args: list[str] = []
    for role, col in {**columns, "id": id_column}.items():
        if col is None or f"--{role}" not in flags:
            continue
        for c in col if isinstance(col, list) else [col]:
            args += [f"--{role}", str(c)]
    return args


class _Plan:
    """A step ready to run: its command, its arguments (input and output filled in later)."""

    def __init__(self, step: RecipeStep, cmd: click.Command, display: str, args: list[str]) -> None:
        self.step, self.cmd, self.display, self.args = step, cmd, display, args


def _plan(recipe: Recipe, engine: str) -> list[_Plan]:
    """Parse every step as its command would, before anything runs (errors name the step and field)."""
    from datadiet.cli import cli

    plans = []
    for step in recipe.steps:
        if step.command == "apply":
            extra = set(step.options) - {"output", "weight_column"}
            if extra or "output" not in step.options:
                raise DataError(f"{step.label()}: apply takes 'output' (required) and 'weight_column'"
                                + (f"; got {sorted(extra)[0]!r}" if extra else ""))
            plans.append(_Plan(step, cli, "apply", []))
            continue
        cmd, _, display = _command(cli, step)
        options = {k: v for k, v in step.options.items() if not (k == "method" and step.command == "select")}
        args = _option_args(cmd, step, options)
        if engine != "local":
            if not any(o.name == "engine" for o in cmd.params):
                raise DataError(f"{step.label()}: {display} runs on the local engine only; run with --engine local")
            args += ["--engine", engine]
        # parse as the command would, with placeholders for the paths
        try:
            ctx = cmd.make_context(display, ["INPUT", *args, *_role_args(cmd, recipe.columns, recipe.columns.get("id")),
                                             "-o", "OUT.parquet"], resilient_parsing=False)
        except click.ClickException as e:
            raise DataError(f"{step.label()}: {e.format_message()}") from None
        _validate(step, display, ctx.params)
        plans.append(_Plan(step, cmd, display, args))
    return plans


def _validate(step: RecipeStep, display: str, parsed: dict[str, Any]) -> None:
    """The declared parameters of the step's method, checked before any data is read."""
    from datadiet._core import registered
    from datadiet.cli._generate import kwargs_from

    try:
        if step.command == "select":
            cls = registered("select")[display.split()[1]]
            if cls.method != "dsir":
                cls(**kwargs_from(cls, parsed)).validate_params()
        elif step.command == "dedup":
            from datadiet.cli._dedup import _build

            _build({**parsed, "score_col": parsed.get("score_col"), "only_against": parsed.get("only_against")})
    except ParamError as e:
        raise DataError(f"{step.label()}: {e.format(flags=False)}") from None


def _run_command(plan: _Plan, data: str, columns: dict[str, Any], id_column: str | None, out: Path) -> None:
    args = [data, *plan.args, *_role_args(plan.cmd, columns, id_column), "-o", str(out), "--overwrite", "-q"]
    try:
        plan.cmd.main(args=args, prog_name=f"datadiet {plan.display}", standalone_mode=False)
    except SystemExit as e:
        if e.code:
            raise SystemExit(e.code) from None
    except click.ClickException as e:
        raise DataError(f"{plan.step.label()}: {e.format_message()}") from None


@click.command("run", epilog=EPILOG)
@click.argument("recipe", type=click.Path(path_type=Path))
@click.option("--output", "-o", "outdir", type=click.Path(path_type=Path), required=True,
              help="Folder of the run: one sub-folder per step, selection.parquet chaining them all.")
@click.option("--input", "input_", metavar="PATH", help="Run the recipe on this data instead of its 'input'.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Engine of every step that has one.")
@click.option("--force", multiple=True, metavar="STEP",
              help="Recompute this step (its number, command or folder name) even if it is done. Repeatable.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
@user_errors
def run(recipe: Path, outdir: Path, input_: str | None, engine: str, force: tuple[str, ...], quiet: bool) -> None:
    """Run the steps of RECIPE (YAML or TOML) and write every result under OUTDIR."""
    rec = load_recipe(recipe, input=input_)
    plans = _plan(rec, engine)
    for f in force:
        if not any(f in (str(p.step.index), p.step.command, p.step.name) for p in plans):
            raise DataError(f"--force {f}: no such step; the steps are "
                            f"{', '.join(p.step.name for p in plans)}")
    if outdir.exists() and not outdir.is_dir():
        raise DataError(f"output {outdir} is a file; give a folder")
    outdir.mkdir(parents=True, exist_ok=True)
    final_apply = plans[-1].step.options.get("output") if plans[-1].step.command == "apply" else None
    if final_apply is not None:
        check_output_path(outdir / str(final_apply), overwrite=True)
    state = RunState(outdir)
    user_id = rec.columns.get("id")
    data, id_column, previous = str(rec.input), user_id, None
    selections: list[Selection] = []
    for plan in plans:
        step = plan.step
        if step.command == "apply":
            break
        folder = outdir / step.name
        folder.mkdir(exist_ok=True)
        sel_path, kept_path = folder / "selection.parquet", folder / "kept.parquet"
        key = step_key(step.command, step.options, open_source(data).fingerprint(), previous)
        forced = any(f in (str(step.index), step.command, step.name) for f in force)
        if not forced and state.is_done(step.name, key, [sel_path]):
            _say(quiet, f"{step.name}: done before (unchanged), skipped")
        else:
            state.forget(step.name)
            _reset_peak_memory()
            t0 = time.perf_counter()
            _run_command(plan, data, rec.columns, id_column, sel_path)
            seconds = time.perf_counter() - t0
            state.mark_done(step.name, key, seconds=round(seconds, 2), peak_rss_mb=_peak_memory_mb())
            _say(quiet, f"{step.name}: {plan.display} in {seconds:.2f} s")
        sel = Selection.read(sel_path)
        selections.append(sel)
        if plan is not plans[-1] and plans[plans.index(plan) + 1].step.command != "apply":
            if not (kept_path.exists() and state.is_done(step.name + ":kept", key, [kept_path])):
                apply_selection(sel, data, kept_path, id_column=id_column, once=True, overwrite=True,
                                ids_as=None if user_id else CARRIED_ID)
                state.mark_done(step.name + ":kept", key)
            data, id_column = str(kept_path), user_id or CARRIED_ID
        previous = key
    final = selections[0]
    for s in selections[1:]:
        final = chain(final, s)
    final.info.update({"input": str(rec.input), "recipe": str(recipe), "columns": rec.columns,
                       "input_fingerprint": open_source(str(rec.input)).fingerprint(),
                       "steps": [p.step.name for p in plans]})
    final.write(outdir / "selection.parquet", overwrite=True)
    _say(quiet, f"selection: {outdir / 'selection.parquet'} ({final.n_kept:,} of {len(final):,} rows kept)")
    if final_apply is not None:
        dest = outdir / str(final_apply)
        stats = apply_selection(final, str(rec.input), dest, id_column=user_id, overwrite=True,
                                weight_column=plans[-1].step.options.get("weight_column", "weight"))
        _say(quiet, f"data: {dest} ({stats['rows_out']:,} rows)")


def _reset_peak_memory() -> None:
    """Start a new peak-RSS measurement for this process (Linux; a no-op elsewhere)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_memory_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _say(quiet: bool, line: str) -> None:
    if not quiet:
        click.echo(line)
