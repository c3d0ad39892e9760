"""``datadiet select --method dsir``: importance resampling toward a target dataset."""

from __future__ import annotations

import os
from typing import Any

import click

from datadiet._core._errors import DataError
from datadiet.cli._methods import MethodSpec, register
from datadiet.io import Selection
from datadiet.signals import Columns


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


def _run(source: Any, columns: Columns, o: dict[str, Any]) -> Selection:
    from datadiet.engine import dsir_select

    targets = list(o.get("target") or ())
    if not targets:
        raise DataError("--method dsir needs --target TARGET: a dataset of what you want more of")
    if not columns.text:
        raise DataError("--method dsir needs the text column: name it with --text")
    mode = o.get("mode") or "resample"
    if mode not in ("resample", "weights"):
        raise DataError(f"--mode for dsir must be 'resample' or 'weights'; got {mode!r}")
    if mode == "resample" and o.get("budget") is None:
        raise DataError("--method dsir needs --budget (e.g. 1000, 20% or 5M-tokens), or --mode weights")
    if len(targets) == 1:
        target: Any = targets[0]
    else:
        names = [os.path.basename(str(t).rstrip("/")) or str(t) for t in targets]
        if len(set(names)) < len(names):
            names = [str(t) for t in targets]
        target = dict(zip(names, targets, strict=True))
    return dsir_select(
        source, target, columns, budget=o.get("budget"), mode=mode, sampling=o["sampling"],
        buckets=o["buckets"], target_text=o.get("target_text"),
        proportions=_proportions(o.get("target_proportions"), len(targets)), clip=o["clip"] or None,
        seed=o["seed"], allow_all=o["allow_all"], n_jobs=o["jobs"] or 1,
    )


register(MethodSpec(
    "dsir", "DSIR importance resampling toward --target on hashed n-grams (or --mode weights)",
    run=_run,
    options=[
        click.Option(["--target"], multiple=True, metavar="TARGET",
                     help="dsir: dataset of what you want more of (repeat for several targets)."),
        click.Option(["--target-text"], metavar="COL", help="dsir: text column of --target (default: --text)."),
        click.Option(["--target-proportions"], metavar="P,...",
                     help="dsir: budget share of each --target (default: by target size)."),
        click.Option(["--buckets"], type=int, default=10000, show_default=True,
                     help="dsir: hash buckets of the n-gram features."),
        click.Option(["--sampling"], type=click.Choice(["gumbel", "topk"]), default="gumbel", show_default=True,
                     help="dsir: sample without replacement ∝ weight, or take the highest weights."),
        click.Option(["--clip"], type=float, default=20.0, show_default=True,
                     help="dsir --mode weights: no weight above CLIP times the mean (0: no clip)."),
        click.Option(["--jobs"], type=int, default=None, help="Worker threads (default 1)."),
    ],
))
