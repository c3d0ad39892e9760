"""``datadiet demo``: the main job on real data that ships in an installed package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from datadiet.cli._common import common_options, print_summary, user_errors
from datadiet.io import apply_selection, chain, open_source
from datadiet.signals import Columns


def run_demo(out: Path, budget: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Deduplicate BBC News, balance its topics to ``budget`` articles, write everything under ``out``.

    Steps: exact + MinHash near-duplicate removal (Jaccard >= 0.8), then topics
    made equal (temperature alpha 0) among the unique articles, chained into one
    selection; the kept rows, the manifest and an HTML report (with a 2-D map of
    a no-model hashed-n-gram embedding) are written.
    """
    from datadiet._testing import bbc_news, write_jsonl
    from datadiet.balance import GroupBalanceSelector
    from datadiet.dedup import Dedup
    from datadiet.engine import load_signals
    from datadiet.report import write_report

    out.mkdir(parents=True, exist_ok=True)
    data = out / "bbc_news.jsonl"
    if not data.exists():  # written once, so the signal cache (keyed by file and mtime) is reused
        write_jsonl(bbc_news(), data)
    columns = Columns(id="id", text="text", group="topic")
    source = open_source(data)
    sig = load_signals(source, columns, keep_text=True, need_tokens=True)
    dedup = Dedup(exact=True, near=0.8, seed=seed).fit(sig).selection_
    unique = sig.take(dedup.indices)
    balanced = GroupBalanceSelector(budget=budget, alpha=0.0, mode="downsample", seed=seed).fit(unique).selection_
    sel = chain(dedup, balanced)
    assert sig.tokens is not None
    sel.metrics.update(tokens_kept=int((sig.tokens * sel.repeats).sum()), tokens_input=int(sig.tokens.sum()))
    sel.info.update({"input": str(data), "input_fingerprint": source.fingerprint(), "columns": columns.as_dict()})
    sel_path = out / "bbc_balanced.selection.parquet"
    mpath = sel.write(sel_path, overwrite=True)
    kept = out / "bbc_balanced.jsonl"
    apply_selection(sel, data, kept, overwrite=True)
    from datadiet.signals import embed_source

    embed_source(data, "text", "hashed")  # no-model embedding (LSA), cached beside the data: the report's map
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
    """Deduplicate the 2,225 real BBC News articles, then balance their 5 topics to BUDGET articles.

    \b
    Example:
      datadiet demo --out demo_out --budget 1000
    """
    res = run_demo(out, budget, seed)
    sel = res["selection_obj"]
    paths = {k: res[k] for k in ("data", "selection", "manifest", "kept", "report")}
    print_summary("datadiet demo: BBC News deduplicated, topics balanced (alpha=0)", sel.manifest(), paths, quiet)
    click.echo(f"selection: {res['selection']}\nmanifest:  {res['manifest']}\nkept rows: {res['kept']}\n"
               f"report:    {res['report']}")
    groups = sel.metrics["groups"]
    click.echo("kept per topic: " + ", ".join(f"{g} {d['kept']}/{d['input']}" for g, d in groups.items()))
    counts = sel.counts()
    click.echo(f"duplicates dropped: {counts.get('duplicate', 0)}; over quota: {counts.get('over_quota', 0)}")
    recipe = Path(__file__).resolve().parents[1] / "recipes" / "examples" / "curate.yaml"
    click.echo(f"\nThe same kind of curation as a recipe ({recipe.name}: dedup -> balance -> apply):")
    from datadiet.cli._run import run

    run.main(args=[str(recipe), "-o", str(out / "recipe_run"), "--input", str(res["data"])],
             prog_name="datadiet run", standalone_mode=False)
    click.echo(f"recipe run:  {out / 'recipe_run'}  (datadiet run {recipe.name} -o {out / 'recipe_run'})")
