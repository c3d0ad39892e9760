"""Budgets: how much data a selection may keep.

A budget is a number of examples (``1000``), a fraction of the input (``10%`` or
``0.1``) or a number of tokens (``50M-tokens``, ``2e6-tokens``). Suffixes K, M, B
(or G) and T multiply by 10^3, 10^6, 10^9 and 10^12.

``1.0`` (with a decimal point) is the whole input, with a ``BudgetWarning``: a user
who writes ``1.0`` means 100%, not one example (write ``1`` for that); ``1`` without a
decimal point is one example.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np

from datadiet._core._errors import DataError, DataTypeError

__all__ = ["Budget", "BudgetWarning", "Target"]

_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}
_NUM = r"(\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?)"
_PATTERN = re.compile(rf"^{_NUM}\s*([kmbgt]?)\s*(%|-?tokens?)?$", re.IGNORECASE)

_HELP = (
    "write a number of examples ('1000', '50K'), a fraction ('10%' or '0.1') "
    "or a number of tokens ('50M-tokens', '2e6-tokens')"
)


class BudgetWarning(UserWarning):
    """A budget that is read in one of two possible ways (``1.0``)."""


def _warn_whole() -> None:
    warnings.warn("budget 1.0 is read as 100% of the input (a number with a decimal point up to 1 is a "
                  "fraction); write 1 for one example, or 100% to say it plainly", BudgetWarning, stacklevel=3)


@dataclass(frozen=True)
class Target:
    """A resolved budget: an exact number of examples, or a number of tokens."""

    examples: int | None = None
    tokens: float | None = None


@dataclass(frozen=True)
class Budget:
    """A parsed budget.

    Parameters
    ----------
    kind : {"examples", "fraction", "tokens"}
    value : float
        Count of examples, fraction in (0, 1], or count of tokens.

    Examples
    --------
    >>> Budget.parse("10%").resolve(n=200)
    20
    >>> Budget.parse("2e6-tokens")
    Budget(kind='tokens', value=2000000.0)
    """

    kind: Literal["examples", "fraction", "tokens"]
    value: float

    @classmethod
    def parse(cls, budget: object) -> Budget:
        """Parse ``int``, ``float``, ``str`` or ``Budget`` into a ``Budget``."""
        if isinstance(budget, Budget):
            return budget
        if isinstance(budget, bool) or budget is None:
            raise DataTypeError(f"budget must be a number or a string; {_HELP}; got {budget!r}")
        if isinstance(budget, (int, np.integer)):
            return cls._checked("examples", float(budget), budget)
        if isinstance(budget, (float, np.floating)):
            if 0 < budget <= 1 and not float(budget).is_integer():
                return cls._checked("fraction", float(budget), budget)
            if budget == 1.0:
                _warn_whole()
                return cls._checked("fraction", 1.0, budget)
            return cls._checked("examples", float(budget), budget)
        if not isinstance(budget, str):
            raise DataTypeError(f"budget must be a number or a string; {_HELP}; got {budget!r}")
        m = _PATTERN.match(budget.strip().replace("_", "").replace(",", ""))
        if not m:
            raise DataError(f"cannot read budget {budget!r}: {_HELP}")
        number, suffix, unit = m.groups()
        value = float(number) * _SUFFIX[suffix.lower()]
        if unit == "%":
            return cls._checked("fraction", value / 100.0, budget)
        if unit:
            return cls._checked("tokens", value, budget)
        if suffix == "" and value < 1:
            return cls._checked("fraction", value, budget)
        if suffix == "" and "." in number and value == 1:  # "1.0": the whole input, not one example
            _warn_whole()
            return cls._checked("fraction", 1.0, budget)
        return cls._checked("examples", value, budget)

    @classmethod
    def _checked(cls, kind: str, value: float, given: object) -> Budget:
        if not math.isfinite(value) or value <= 0:
            raise DataError(f"budget must be positive, got {given!r}; {_HELP}")
        if kind == "fraction" and value > 1:
            raise DataError(f"a fractional budget must be at most 100%, got {given!r}")
        if kind in ("examples", "tokens") and not float(value).is_integer():
            raise DataError(f"budget {given!r} is not a whole number of {kind}; {_HELP}")
        return cls(kind, float(value))  # type: ignore[arg-type]

    @property
    def is_tokens(self) -> bool:
        return self.kind == "tokens"

    def resolve(self, n: int) -> int:
        """Number of examples for an input of ``n`` rows (examples and fraction budgets)."""
        if self.kind == "tokens":
            raise DataError("a token budget has no example count; compare it with token counts instead")
        if self.kind == "fraction":
            return int(round(self.value * n))
        return int(self.value)

    def __str__(self) -> str:
        if self.kind == "fraction":
            return f"{self.value * 100:g}%"
        if self.kind == "tokens":
            return f"{self.value:g}-tokens"
        return f"{int(self.value)}"
