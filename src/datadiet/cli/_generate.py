"""CLI options generated from parameter declarations.

Each declared :class:`~datadiet._core.Param` with ``cli=True`` becomes one click
option: ``--name-with-dashes``, its help line, and the declared default shown
but not applied (an option the user does not give is left out, so the class
default is the only default). Values are converted and checked by the
declaration itself, so the CLI and the library give the same message.
"""

from __future__ import annotations

import json
from typing import Any

import click

from datadiet._core import Declared, Param, ParamError
from datadiet._core._params import REQUIRED

__all__ = ["options_for", "kwargs_from", "param_option", "parse_mapping"]


def parse_mapping(text: str, what: str, value_type: type = float) -> dict[str, Any]:
    """Parse ``a=1,b=2`` or a JSON object into a dict, with a readable error."""
    text = text.strip()
    try:
        raw = json.loads(text) if text.startswith("{") else dict(
            part.split("=", 1) for part in text.split(",") if part.strip())
        return {str(k).strip(): value_type(v) for k, v in raw.items()}
    except (ValueError, TypeError, json.JSONDecodeError):
        kind = "integer" if value_type is int else "number"
        raise ParamError(what, f"name={kind} pairs separated by commas, e.g. 'sport=100,tech=50'",
                         text) from None


class _ParamType(click.ParamType):
    """Turns the option's string into the declared kind (literal alternatives first)."""

    def __init__(self, p: Param) -> None:
        self.p = p
        self.name = p.kind

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if not isinstance(value, str):
            return value
        p = self.p
        for a in p.also:
            if not isinstance(a, type) and str(a) == value:
                return a
        if p.none and value.lower() == "none":
            return None
        try:
            if p.kind == "int" or p.kind == "mapping" and int in p.also and value.strip().isdigit():
                return int(value)
            if p.kind == "float":
                return float(value)
            if p.kind == "mapping":
                return parse_mapping(value, p.flag, p.value_type)
        except ValueError:
            self.fail(f"{value!r} is not {p.describe()}", param, ctx)
        except ParamError as e:
            self.fail(str(e), param, ctx)
        return value


def _default_text(p: Param) -> str | None:
    if p.default is REQUIRED:
        return "required"
    if p.default is None or p.default is False:
        return None
    return str(p.default)


def param_option(p: Param) -> click.Option:
    """One click option for a declared parameter."""
    flags = [p.flag, *p.aliases]
    shown = _default_text(p)
    help_text = p.help + (f"  [default: {shown}]" if shown and p.default is not REQUIRED else "")
    if p.kind == "bool":
        name = p.name.replace("_", "-")
        return click.Option([f"--{name}/--no-{name}", *p.aliases, p.name], default=None, help=help_text)
    if p.kind == "choice":
        ptype: Any = click.Choice([str(c) for c in p.choices] + [str(a) for a in p.also if not isinstance(a, type)])
    elif p.kind == "seed":
        ptype = click.IntRange(min=0)
    else:
        ptype = _ParamType(p)
    required = p.default is REQUIRED
    return click.Option([*flags, p.name], type=ptype, default=None, help=help_text,
                        required=required,
                        metavar=p.metavar or _metavar(p))


def _metavar(p: Param) -> str | None:
    return {"int": "INT", "float": "NUM", "budget": "BUDGET", "mapping": "NAME=N,...", "str": "TEXT"}.get(p.kind)


def options_for(cls: type[Declared], skip: tuple[str, ...] = ()) -> list[click.Option]:
    """The click options of every CLI parameter declared by ``cls`` (bases included)."""
    return [param_option(p) for p in cls.declared().values() if p.cli and p.name not in skip]


def kwargs_from(cls: type[Declared], parsed: dict[str, Any]) -> dict[str, Any]:
    """The constructor arguments the user gave on the command line (``None`` = not given)."""
    out = {}
    for p in cls.declared().values():
        if p.cli and p.default is REQUIRED and parsed.get(p.name) is None:
            raise click.UsageError(f"Missing option '{p.flag}' ({p.help}).")
        if p.cli and parsed.get(p.name) is not None:
            v = parsed[p.name]
            if p.kind == "choice":
                v = next((c for c in p.choices if str(c) == v), v)
            out[p.name] = v
    return out
