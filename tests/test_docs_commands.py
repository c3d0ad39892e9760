"""Every `datadiet ...` command shown in the README and docs/ parses, and its parameters are valid.

The examples are parsed exactly as the CLI would parse them (no data is read), so an
option that was renamed or removed, or a value a method no longer accepts, fails here.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import click
import pytest

from datadiet._core import registered
from datadiet.cli import cli
from datadiet.cli._generate import kwargs_from

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _commands(path: Path) -> list[tuple[int, str]]:
    out, in_block, lang, buf, start = [], False, "", "", 0
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith("```"):
            in_block, lang = (not in_block), line[3:].strip()
            continue
        if not in_block or lang not in ("bash", "sh", "console", "shell", ""):
            continue
        text = line.split(" #")[0].rstrip() if not line.lstrip().startswith("#") else ""
        text = text.lstrip("$ ").strip() if not buf else text.strip()
        if not buf and not text.startswith("datadiet "):
            continue
        if not buf:
            start = i
        buf += " " + text.rstrip("\\").strip()
        if not text.endswith("\\"):
            out.append((start, buf.strip()))
            buf = ""
    return out


CASES = [(p.name, n, c) for p in DOCS for n, c in _commands(p)]


def test_the_docs_show_commands():
    assert len(CASES) > 20


def _parse(args: list[str]) -> None:
    ctx = cli.make_context("datadiet", list(args))
    name, cmd, rest = cli.resolve_command(ctx, [*ctx._protected_args, *ctx.args])  # type: ignore[attr-defined]
    assert cmd is not None
    if isinstance(cmd, click.Group):
        sub = cmd.make_context(name, rest, parent=ctx)
        name, cmd, rest = cmd.resolve_command(sub, [*sub._protected_args, *sub.args])  # type: ignore[attr-defined]
        assert cmd is not None
        parsed = cmd.make_context(name, rest, parent=sub).params
        cls = registered("select")[name]
        if cls.method != "dsir":
            cls(**kwargs_from(cls, parsed)).validate_params()
    else:
        cmd.make_context(name, rest, parent=ctx)


@pytest.mark.parametrize(("doc", "line", "command"), CASES, ids=[f"{d}:{n}" for d, n, _ in CASES])
def test_documented_command_parses(doc, line, command):
    args = shlex.split(command)[1:]
    if "--help" in args or "-h" in args or args[:1] in (["--version"],):
        return
    if args[:1] == ["select"] and len(args) > 1 and args[1] not in registered("select") and "--method" not in args \
            and "-m" not in args:
        args.insert(1, "random")  # the default method of the old spelling
    try:
        _parse(args)
    except click.exceptions.Exit:
        pass
    except click.ClickException as e:
        pytest.fail(f"{doc}:{line}: `{command}`: {e.format_message()}")
