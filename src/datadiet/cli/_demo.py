"""``datadiet demo``: the main job on real data that ships in an installed package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from datadiet.cli._common import common_options, print_summary, user_errors
from datadiet.io import apply_selection, open_source
from datadiet.signals import Columns


def run_demo(out: Path, budget: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Balance the topics of BBC News to ``budget`` articles and write the result under ``out``."""
    from datadiet._testing import bbc_news, write_jsonl
    from datadiet.balance import GroupBalanceSelector
    from datadiet.engine import load_signals

    out.mkdir(parents=True, exist_ok=True)
    data = write_jsonl(bbc_news(), out / "bbc_news.jsonl")
    columns = Columns(id="id", text="text", group="topic")
    source = open_source(data)
    sig = load_signals(source, columns, need_tokens=True)
    selector = GroupBalanceSelector(budget=budget, alpha=0.0, mode="downsample", seed=seed)
    sel = selector.fit(sig).selection_
    sel.info.update({"input": str(data), "input_fingerprint": source.fingerprint(), "columns": columns.as_dict()})
    sel_path = out / "bbc_balanced.selection.parquet"
    mpath = sel.write(sel_path, overwrite=True)
    kept = out / "bbc_balanced.jsonl"
    apply_selection(sel, data, kept, overwrite=True)
    from datadiet.report import write_report

    report = write_report(sel_path, out / "bbc_balanced.report.html", data=data, overwrite=True)
    return {"data": data, "selection": sel_path, "manifest": mpath, "kept": kept, "report": report,
            "selection_obj": sel}


@click.command("demo")
@click.option("--out", type=click.Path(path_type=Path), default=Path("demo_out"), show_default=True,
              help="Folder for the demo's files.")
@click.option("--budget", type=int, default=1000, show_default=True, help="Articles to keep.")
@click.option("--seed", type=int, default=0, show_default=True)
@common_options
@user_errors
def demo(out: Path, budget: int, seed: int, quiet: bool) -> None:
    """Balance the 5 topics of BBC News (2,225 real articles) to BUDGET articles.

    \b
    Example:
      datadiet demo --out demo_out --budget 1000
    """
    res = run_demo(out, budget, seed)
    sel = res["selection_obj"]
    paths = {k: res[k] for k in ("data", "selection", "manifest", "kept", "report")}
    print_summary("datadiet demo: BBC News, topics balanced (alpha=0)", sel.manifest(), paths, quiet)
    click.echo(f"selection: {res['selection']}\nmanifest:  {res['manifest']}\nkept rows: {res['kept']}\n"
               f"report:    {res['report']}")
    groups = sel.metrics["groups"]
    click.echo("kept per topic: " + ", ".join(f"{g} {d['kept']}/{d['input']}" for g, d in groups.items()))
    assert np.isclose(sum(d["kept"] for d in groups.values()), budget)
