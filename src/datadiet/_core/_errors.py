"""Errors a user can act on.

Everything a user can fix (a bad parameter, a missing column, a malformed line,
an impossible budget, an output that exists) raises a :class:`DatadietError`
subclass. The CLI prints such an error as one line on stderr and exits with
code 2; any other exception is a bug (exit 1, traceback, a request to report
it). Each subclass is also the built-in exception a Python user expects
(``ValueError``, ``TypeError``, ``ImportError``, ``FileExistsError``), so
``except ValueError`` keeps working.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "DatadietError",
    "DataError",
    "DataTypeError",
    "MissingExtraError",
    "OutputExistsError",
    "ParamError",
    "ParamTypeError",
]


class DatadietError(Exception):
    """Base of every error a user can fix."""


class DataError(DatadietError, ValueError):
    """The data or a file cannot be used as asked (missing column, malformed line, empty input...)."""


class DataTypeError(DatadietError, TypeError):
    """A value has the wrong type (e.g. a column of strings where numbers are needed)."""


class ParamError(DatadietError, ValueError):
    """A parameter has a value that is not allowed.

    ``param`` names the parameter, ``allowed`` says what is allowed (other
    parameters it mentions are written between backticks) and ``given`` is what
    was given. ``format(flags=True)`` writes every parameter name as its CLI
    option (``allow_all`` -> ``--allow-all``), which is what the CLI prints.
    """

    def __init__(self, param: str, allowed: str, given: Any, owner: str = "") -> None:
        self.param, self.allowed, self.given, self.owner = param, allowed, given, owner
        super().__init__(self.format())

    def format(self, flags: bool = False) -> str:
        def name(p: str) -> str:
            return "--" + p.replace("_", "-") if flags else p

        allowed = re.sub(r"`(\w+)`", lambda m: name(m.group(1)), self.allowed)
        where = f"{self.owner}: " if self.owner else ""
        return f"{where}{name(self.param)} must be {allowed}; got {self.given!r}"


class ParamTypeError(ParamError, TypeError):
    """A parameter has a value of the wrong type."""


class MissingExtraError(DatadietError, ImportError):
    """An optional dependency is not installed; the message says what to install."""


class OutputExistsError(DatadietError, FileExistsError):
    """An output file exists and ``overwrite`` was not asked for."""
