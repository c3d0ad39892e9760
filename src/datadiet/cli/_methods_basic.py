"""Foundation methods: random, balance, threshold, topk, score-sample, softcap."""

from __future__ import annotations

from typing import Any

import click

from datadiet.balance import GroupBalanceSelector
from datadiet.cli._methods import MethodSpec, parse_mapping, register
from datadiet.select import (
    RandomSelector,
    ScoreProportionalSampler,
    SoftCapSampler,
    ThresholdFilter,
    TopKSelector,
)


def _common(o: dict[str, Any]) -> dict[str, Any]:
    return {"budget": o["budget"], "seed": o["seed"], "allow_all": o["allow_all"]}


def _score_kw(o: dict[str, Any]) -> dict[str, Any]:
    return {"weights": parse_mapping(o.get("score_weights"), "--score-weights"), "normalize": o["normalize"]}


def _caps(text: str | None) -> Any:
    if text and text.strip().isdigit():
        return int(text)
    return parse_mapping(text, "--caps", int)


register(MethodSpec("random", "uniform random subset keyed by (seed, id)",
                    lambda o: RandomSelector(**_common(o))))
register(MethodSpec(
    "balance", "temperature-balanced groups (--group/--label): downsample, upsample or upweight",
    lambda o: GroupBalanceSelector(alpha=1.0 if o["alpha"] is None else o["alpha"], mode=o["mode"] or "downsample", max_repeats=o["max_repeats"],
                                   quotas=parse_mapping(o.get("quotas"), "--quotas", int),
                                   caps=_caps(o.get("caps")), **_common(o)),
    options=[
        click.Option(["--alpha"], type=float, default=None,
                     help="balance (default 1) / cluster-balanced (default 0.5): p_g ∝ n_g^alpha "
                          "(1 natural mix, 0 equal groups)."),
        click.Option(["--mode"], type=click.Choice(["downsample", "upsample", "upweight", "resample", "weights"]),
                     help="balance: downsample (default), upsample or upweight; dsir: resample (default) or weights."),
        click.Option(["--quotas"], metavar="G=N,...", help="balance: exact counts for named groups."),
        click.Option(["--caps"], metavar="G=N,...|N", help="balance: most examples per (named) group."),
    ],
))
register(MethodSpec(
    "threshold", "keep rows whose (combined) --score lies in [--min, --max]",
    lambda o: ThresholdFilter(min=o["min"], max=o["max"], **_score_kw(o)),
    options=[click.Option(["--min"], type=float, help="threshold: lowest score kept."),
             click.Option(["--max"], type=float, help="threshold: highest score kept.")],
))
register(MethodSpec("topk", "the highest (combined) --score up to the budget",
                    lambda o: TopKSelector(**_score_kw(o), **_common(o))))
register(MethodSpec(
    "score-sample", "sample without replacement with P ∝ score^power",
    lambda o: ScoreProportionalSampler(power=o["power"], **_score_kw(o), **_common(o)),
    options=[click.Option(["--power"], type=float, default=1.0, show_default=True,
                          help="score-sample/softcap: sharpening exponent on the score.")],
))
register(MethodSpec(
    "softcap", "repeats ∝ score^power, at most --max-repeats per example",
    lambda o: SoftCapSampler(max_repeats=o["max_repeats"] or 4, power=o["power"], **_score_kw(o), **_common(o)),
))

SHARED_OPTIONS = [
    click.Option(["--max-repeats"], type=int, default=None,
                 help="balance upsample/upweight, softcap (default 4): repetition cap per example."),
    click.Option(["--score-weights"], metavar="COL=W,...", help="Weights for combining several --score columns."),
    click.Option(["--normalize"], type=click.Choice(["auto", "none", "rank", "zscore", "minmax"]), default="auto",
                 show_default=True, help="How score columns are normalised before combining."),
]
