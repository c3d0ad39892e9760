"""``datadiet select METHOD``: one subcommand per registered selection method.

The options of each method come from its parameter declarations
(:mod:`datadiet.cli._generate`), so ``datadiet select METHOD --help`` shows only
that method's options and an option of another method is an error. The older
spelling ``datadiet select INPUT --method METHOD ...`` still works.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from datadiet._core import REQUIRED, Budget, DataError, registered
from datadiet.cli._common import (
    columns_from,
    debug_param,
    engine_from,
    engine_params,
    engine_session,
    print_summary,
    quiet_param,
    role_params,
    source_from,
    user_errors,
)
from datadiet.cli._generate import kwargs_from, options_for
from datadiet.io import Selection, check_output_path, check_report_path, manifest_path

__all__ = ["make_select_command", "finish_selection"]

EPILOG = """
\b
Examples:
  # 10% uniformly at random, reproducible by seed
  datadiet select random data.jsonl --budget 10% -o sel.parquet
\b
  # 1,000 news articles with topics made equal (alpha 0), rare topics repeated
  datadiet select balance bbc.jsonl --text text --group topic \\
      --alpha 0 --mode upsample --max-repeats 3 --budget 1000 -o sel.parquet
\b
  # the best 2M tokens by a quality score
  datadiet select topk web.parquet --text text --score quality --budget 2M-tokens -o sel.parquet
\b
`datadiet select METHOD --help` lists the options of one method.
Then write the rows: datadiet apply sel.parquet data.jsonl -o kept.jsonl
"""


def finish_selection(sel: Selection, source: Any, columns: Any, output: Path, overwrite: bool,
                     input_name: str, report: Path | None = None, data: Any = None) -> Path:
    """Record inputs in the manifest and write selection (+ report) atomically."""
    sel.info.setdefault("input", input_name)
    sel.info.setdefault("input_fingerprint", source.fingerprint())
    sel.info.setdefault("columns", columns.as_dict())  # load_signals records the columns it defaulted
    mpath = sel.write(output, overwrite=overwrite)
    if report is not None:
        from datadiet.report import write_report

        write_report(output, report, data=data, overwrite=overwrite)
    return mpath


def _dsir_options() -> list[click.Option]:
    return [
        click.Option(["--target"], multiple=True, metavar="TARGET", required=True,
                     help="Dataset of what you want more of (repeat for several targets)."),
        click.Option(["--target-proportions"], metavar="P,...",
                     help="Budget share of each --target (default: by target size)."),
    ]


def _proportions(text: str | None, n: int) -> list[float] | None:
    if not text:
        return None
    try:
        vals = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise DataError(f"cannot read --target-proportions {text!r}: write one number per --target, "
                        "separated by commas, e.g. 0.7,0.3") from None
    if len(vals) != n:
        raise DataError(f"--target-proportions has {len(vals)} numbers but there are {n} --target datasets")
    return vals


def _run_dsir(source: Any, columns: Any, kwargs: dict[str, Any], kw: dict[str, Any], engine: Any = "local") -> Selection:
    import os

    from datadiet.engine import dsir_select

    targets = list(kw["target"])
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        raise DataError(f"--target {twice[0]} is given more than once; give each target dataset once")
    if len(targets) == 1:
        target: Any = targets[0]
    else:
        names = [os.path.basename(str(t).rstrip("/")) or str(t) for t in targets]
        target = dict(zip(names if len(set(names)) == len(names) else map(str, targets), targets, strict=True))
    kwargs = {**kwargs, "proportions": _proportions(kw.get("target_proportions"), len(targets))}
    kwargs.setdefault("target_text", columns.text)
    return dsir_select(source, target, columns, engine=engine, **kwargs)


_SIGNAL_FLAGS = {"groups": ("a group column", "--group COL (or --label COL)"),
                 "scores": ("a score column", "--score COL"), "text": ("the text column", "--text COL")}


def _check_columns(name: str, cls: Any, columns: Any) -> None:
    """The columns a method needs, named with the options that give them."""
    have = {"groups": columns.group or columns.label, "scores": columns.scores, "text": columns.text}
    for need in cls.requires:
        if need in have and not have[need]:
            what, flag = _SIGNAL_FLAGS[need]
            raise DataError(f"method {name} needs {what}: name it with {flag}")


def _runnable(cls: Any) -> bool:
    """A method runs from the command line when every required parameter is an option (or --target)."""
    return cls.method == "dsir" or all(p.cli or p.default is not REQUIRED for p in cls.declared().values())


def _method_command(name: str, cls: Any) -> click.Command:
    needs_vectors = "vectors" in cls.requires
    extra = _dsir_options() if name == "dsir" else []
    if needs_vectors:
        from datadiet.cli._vectors import vector_options

        extra = vector_options()

    @user_errors
    def run(input: str, output: Path, report: Path | None, overwrite: bool, quiet: bool, **kw: Any) -> None:
        engine = engine_from(kw)
        engine_name = getattr(engine, "name", engine)
        kwargs = kwargs_from(cls, kw)
        if name != "dsir":
            cls(**kwargs).validate_params()
        if engine_name not in cls.engines:
            raise DataError(f"method {name} runs on the local engine only (its passes are not yet steps on "
                            f"Ray); drop --engine {engine_name}")
        source = source_from(input, kw)  # a missing input is named before an existing output
        columns, defaulted = columns_from(kw).with_defaults(source.column_names)
        _check_columns(name, cls, columns)
        check_output_path(output, overwrite, suffixes=(".parquet",))
        check_output_path(manifest_path(output), overwrite)
        if report is not None:
            check_report_path(report, overwrite)
        with engine_session(engine):
            info: dict[str, Any] = {}
            if name == "dsir":
                sel = _run_dsir(source, columns, kwargs, kw, engine)
            else:
                selector = cls(**kwargs)
                budget = kwargs.get("budget")
                need_tokens = budget is not None and Budget.parse(budget).is_tokens
                if needs_vectors:
                    from datadiet.cli._vectors import signals_with_vectors

                    sig, info["vectors"] = signals_with_vectors(source, columns, kw.get("model"),
                                                                kw.get("embed_batch_size"), engine=engine)
                else:
                    from datadiet.engine import load_signals

                    sig = load_signals(source, columns, keep_text="text" in cls.requires, need_tokens=need_tokens,
                                       engine=engine)
                sel = selector.fit(sig).selection_
        sel.info.update(info)
        if defaulted:
            sel.info["columns_defaulted"] = defaulted
        mpath = finish_selection(sel, source, columns, output, overwrite, input, report, data=source)
        paths: dict[str, Any] = {"selection": output, "manifest": mpath}
        if report is not None:
            paths["report"] = report
        print_summary(f"datadiet select {name}", sel.manifest(), paths, quiet)

    params: list[click.Parameter] = [
        click.Argument(["input"]),
        click.Option(["--output", "-o"], type=click.Path(path_type=Path), required=True,
                     help="Selection file (.parquet); a .manifest.json is written beside it."),
        click.Option(["--report"], type=click.Path(path_type=Path), help="Also write an HTML report here (.html)."),
        click.Option(["--overwrite"], is_flag=True, help="Replace existing output files."),
        *engine_params(local_only="ray" not in cls.engines),
        *options_for(cls),
        *extra,
        *role_params(),
        quiet_param(),
        debug_param(),
    ]
    doc = (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ").replace("``", "")
    example = f"\b\nExample:\n  {cls.example}\n" if cls.example else ""
    return click.Command(name, callback=run, params=params, help=f"{doc}\n\nINPUT: the data to select from.",
                         short_help=cls.summary or doc, epilog=example or None)


class SelectGroup(click.Group):
    """Subcommands made from the registry when asked for; ``INPUT --method M`` is rewritten to ``M INPUT``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [n for n, c in registered("select").items() if _runnable(c)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        cls = registered("select").get(cmd_name)
        return _method_command(cmd_name, cls) if cls is not None and _runnable(cls) else None

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        methods = set(self.list_commands(ctx))
        if args and args[0] not in methods and args[0] not in ("-h", "--help"):
            args = list(args)
            method = "random"
            for i, a in enumerate(args):
                if a in ("--method", "-m") and i + 1 < len(args):
                    method = args[i + 1]
                    del args[i:i + 2]
                    break
                if a.startswith("--method="):
                    method = a.split("=", 1)[1]
                    del args[i]
                    break
            if method not in methods:
                raise click.UsageError(f"unknown method {method!r}; the methods are: {', '.join(sorted(methods))}")
            args.insert(0, method)
        return super().parse_args(ctx, args)


def make_select_command() -> click.Command:
    return SelectGroup("select", help="Choose a subset of INPUT to a budget and write it as a selection.\n\n"
                       "Usage: datadiet select METHOD INPUT [OPTIONS] (or INPUT --method METHOD).",
                       epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
