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

    ``param`` names the parameter (the CLI turns it into ``--param-name``),
    ``allowed`` says what is allowed and ``given`` is what was given.
    """

    def __init__(self, param: str, allowed: str, given: Any, owner: str = "") -> None:
        self.param, self.allowed, self.given, self.owner = param, allowed, given, owner
        super().__init__(self.format(param))

    def format(self, name: str) -> str:
        where = f"{self.owner}: " if self.owner else ""
        return f"{where}{name} must be {self.allowed}; got {self.given!r}"


class ParamTypeError(ParamError, TypeError):
    """A parameter has a value of the wrong type."""


class MissingExtraError(DatadietError, ImportError):
    """An optional dependency is not installed; the message says what to install."""


class OutputExistsError(DatadietError, FileExistsError):
    """An output file exists and ``overwrite`` was not asked for."""
