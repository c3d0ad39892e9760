"""The ``datadiet`` command: a thin layer over the library."""

from __future__ import annotations

import importlib

import click

from datadiet import __version__

__all__ = ["main", "cli"]

#: (module, attribute) of each subcommand; a command is one small module.
COMMANDS = [
    ("datadiet.cli._info", "info"),
    ("datadiet.cli._select", "make_select_command"),
    ("datadiet.cli._apply", "apply"),
    ("datadiet.cli._embed", "embed"),
    ("datadiet.cli._cluster", "cluster"),
    ("datadiet.cli._report", "report"),
    ("datadiet.cli._demo", "demo"),
    ("datadiet.cli._dedup", "dedup"),
    ("datadiet.cli._methods", "methods"),
    ("datadiet.cli._run", "run"),
    ("datadiet.cli._scores", "scores"),
    ("datadiet.cli._negatives", "negatives"),
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="datadiet")
def cli() -> None:
    """datadiet: decide which examples a model trains on, how often, and against which negatives.

    \b
    Start with:
      datadiet demo                                   # real data, end to end
      datadiet info data.jsonl --text text --group topic
      datadiet select data.jsonl --method random --budget 10% -o sel.parquet
      datadiet apply sel.parquet data.jsonl -o kept.jsonl
    """


for _mod, _attr in COMMANDS:
    _obj = getattr(importlib.import_module(_mod), _attr)
    cli.add_command(_obj() if not isinstance(_obj, click.Command) else _obj)


def main() -> None:
    cli(prog_name="datadiet")
