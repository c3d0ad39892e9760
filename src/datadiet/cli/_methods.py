"""``datadiet methods``: every registered method with its parameters, from the declarations.

``datadiet methods --markdown`` writes the methods table of the docs (``docs/methods.md``).
"""

from __future__ import annotations

import click

from datadiet._core import REQUIRED, registered

__all__ = ["methods", "methods_markdown"]

FAMILIES = ("select", "dedup", "balance", "negatives", "batches", "train")


def _load_families() -> None:
    import datadiet  # noqa: F401  (registers select and balance)
    import datadiet.dedup  # noqa: F401

    for optional in ("datadiet.negatives", "datadiet.train", "datadiet.value"):
        __import__(optional)


def methods_markdown() -> str:
    """The methods table: one section per family, one row per parameter."""
    _load_families()
    out = ["# Methods", "",
           "Generated from the parameter declarations by `datadiet methods --markdown > docs/methods.md`;",
           "do not edit by hand. `datadiet select METHOD --help` shows the same options.", ""]
    for fam in FAMILIES:
        regs = registered(fam)
        if not regs:
            continue
        out += [f"## {fam}", ""]
        for name, cls in regs.items():
            doc = (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
            out += [f"### `{name}` ({cls.__module__.split('._')[0]}.{cls.__name__})", "", doc, "",
                    "| parameter | option | allowed | default | help |", "|---|---|---|---|---|"]
            for p in cls.declared().values():
                default = "required" if p.default is REQUIRED else f"`{p.default!r}`"
                option = ("(Python only)" if not p.cli else
                          f"`{p.flag}` / `--no-{p.flag[2:]}`" if p.kind == "bool" else f"`{p.flag}`")
                allowed = p.describe().replace("|", "\\|")
                out.append(f"| `{p.name}` | {option} | {allowed} | {default} | {p.help.replace('|', '/')} |")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


@click.command("methods")
@click.option("--markdown", is_flag=True, help="Write the full table (parameters included) as Markdown.")
def methods(markdown: bool) -> None:
    """List every registered method (selectors, dedup, miners, samplers) and what it does.

    \b
    Example:
      datadiet methods
      datadiet methods --markdown > docs/methods.md
    """
    if markdown:
        click.echo(methods_markdown(), nl=False)
        return
    _load_families()
    for fam in FAMILIES:
        regs = registered(fam)
        if regs:
            click.echo(f"{fam}:")
            width = max(map(len, regs)) + 2
            for name, cls in regs.items():
                doc = cls.summary or (cls.__doc__ or "").strip().split("\n")[0]
                click.echo(f"  {name:<{width}}{doc}")
