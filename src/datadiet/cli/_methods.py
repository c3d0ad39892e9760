"""Registry of methods for ``datadiet select``.

A method spec names the click options it adds, builds the selector from the
parsed options, and says what it needs read. Adding a method is one spec in a
module listed in ``SPEC_MODULES``.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

from datadiet._core._errors import DataError
from datadiet.io import Selection
from datadiet.signals import Columns

__all__ = ["MethodSpec", "register", "all_specs", "parse_mapping"]


@dataclass
class MethodSpec:
    """One ``--method`` of ``datadiet select``.

    ``build(opts)`` makes the selector; ``run(data, columns, opts)``, when given,
    replaces the default "load signals, then fit" for methods that stream the
    data themselves (e.g. DSIR).
    """

    name: str
    help: str
    build: Callable[[dict[str, Any]], Any] | None = None
    options: list[click.Option] = field(default_factory=list)
    keep_text: bool = False
    run: Callable[[Any, Columns, dict[str, Any]], Selection] | None = None


_REGISTRY: dict[str, MethodSpec] = {}

#: Modules that register specs when imported.
SPEC_MODULES = ["datadiet.cli._methods_basic", "datadiet.cli._methods_dsir", "datadiet.cli._methods_embed"]


def register(spec: MethodSpec) -> MethodSpec:
    _REGISTRY[spec.name] = spec
    return spec


def all_specs() -> dict[str, MethodSpec]:
    for mod in SPEC_MODULES:
        importlib.import_module(mod)
    return dict(_REGISTRY)


def parse_mapping(text: str | None, what: str, value_type: type = float) -> dict[str, Any] | None:
    """Parse ``a=1,b=2`` or a JSON object into a dict, with a readable error."""
    if not text:
        return None
    text = text.strip()
    try:
        if text.startswith("{"):
            raw = json.loads(text)
        else:
            raw = dict(part.split("=", 1) for part in text.split(",") if part.strip())
        return {str(k).strip(): value_type(v) for k, v in raw.items()}
    except (ValueError, json.JSONDecodeError):
        kind = "integer" if value_type is int else "number"
        raise DataError(f"cannot read {what} {text!r}: write name={kind} pairs separated by commas, "
                         "e.g. 'sport=100,tech=50'") from None
