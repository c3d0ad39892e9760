"""Read a recipe: the input, its columns and a list of steps, each a command with its options.

A recipe speaks the CLI's language: each step is one command (``dedup``, ``select``,
``apply``) and its options with the dashes dropped, so what works on the command line
works in a recipe::

    input: data/*.jsonl
    columns: {id: id, text: text, group: domain}
    steps:
      - dedup: {exact: true, near: 0.8}
      - select: {method: balance, alpha: 0.5, budget: 50%}
      - apply: {output: train.jsonl}

Relative input paths are read from the recipe's folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datadiet._core._errors import DataError

__all__ = ["Recipe", "RecipeStep", "load_recipe", "COMMANDS", "ROLE_KEYS"]

#: Commands a step may run.
COMMANDS = ("dedup", "select", "apply")
#: Keys of ``columns`` (the CLI's role options).
ROLE_KEYS = ("id", "text", "label", "group", "score", "vectors", "tokens")


@dataclass(frozen=True)
class RecipeStep:
    """One step: ``command`` with ``options`` (CLI option names without dashes, ``_`` or ``-``)."""

    index: int
    command: str
    options: dict[str, Any]

    @property
    def name(self) -> str:
        """Folder name of the step's outputs: ``01-dedup``, ``02-select-balance``."""
        method = self.options.get("method")
        return f"{self.index:02d}-{self.command}" + (f"-{method}" if method else "")

    def label(self) -> str:
        return f"step {self.index} ({self.command})"


@dataclass(frozen=True)
class Recipe:
    """A parsed recipe."""

    input: Any
    columns: dict[str, Any]
    steps: list[RecipeStep]
    path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def _parse_file(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".toml":
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise DataError(f"{path}: not valid TOML: {e}") from None
    if suffix in (".yaml", ".yml", ".json"):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise DataError(f"{path}: not valid YAML{where}: {getattr(e, 'problem', e)}") from None
    raise DataError(f"{path}: a recipe is a .yaml, .yml, .toml or .json file; got {suffix or 'no suffix'}")


def load_recipe(recipe: str | os.PathLike[str] | dict[str, Any], input: Any = None) -> Recipe:
    """Read and check the shape of a recipe (a file or a dict); ``input`` replaces the recipe's input.

    Examples
    --------
    >>> r = load_recipe({"input": "d.jsonl", "columns": {"text": "text"},
    ...                  "steps": [{"dedup": {"near": 0.8}}, {"select": {"method": "random", "budget": 10}}]})
    >>> [s.name for s in r.steps]
    ['01-dedup', '02-select-random']
    """
    path = None
    if isinstance(recipe, dict):
        raw = recipe
        where = "the recipe"
    else:
        path = Path(recipe)
        if not path.is_file():
            raise FileNotFoundError(f"recipe {path} does not exist")
        raw = _parse_file(path)
        where = str(path)
    if not isinstance(raw, dict):
        raise DataError(f"{where} must be a mapping with 'input', 'columns' and 'steps'")
    unknown = sorted(set(raw) - {"input", "columns", "steps"})
    if unknown:
        raise DataError(f"{where}: unknown key {unknown[0]!r}; a recipe has 'input', 'columns' and 'steps'")
    data = input if input is not None else raw.get("input")
    if data is None:
        raise DataError(f"{where} has no 'input': add one, or give the data with --input PATH")
    if input is None and path is not None and isinstance(data, str) and not os.path.isabs(data):
        data = str(path.parent / data)
    columns = raw.get("columns") or {}
    if not isinstance(columns, dict):
        raise DataError(f"{where}: 'columns' must map roles to column names, e.g. {{text: text, group: topic}}")
    bad = sorted(set(columns) - set(ROLE_KEYS))
    if bad:
        raise DataError(f"{where}: columns.{bad[0]} is not a role; the roles are {', '.join(ROLE_KEYS)}")
    steps_raw = raw.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        raise DataError(f"{where}: 'steps' must be a non-empty list, e.g. [{{dedup: {{near: 0.8}}}}]")
    steps = []
    for i, s in enumerate(steps_raw, start=1):
        if not isinstance(s, dict) or len(s) != 1:
            raise DataError(f"{where}: step {i} must be one command and its options, e.g. "
                            "{select: {method: random, budget: 10%}}")
        (command, options), = s.items()
        if command not in COMMANDS:
            raise DataError(f"{where}: step {i}: unknown command {command!r}; the commands are "
                            f"{', '.join(COMMANDS)}")
        options = options or {}
        if not isinstance(options, dict):
            raise DataError(f"{where}: step {i} ({command}): the options must be a mapping, got {options!r}")
        steps.append(RecipeStep(i, command, {str(k).replace("-", "_"): v for k, v in options.items()}))
    if any(s.command == "apply" for s in steps[:-1]):
        raise DataError(f"{where}: 'apply' writes the data and must be the last step")
    return Recipe(data, dict(columns), steps, path, raw)
