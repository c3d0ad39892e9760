"""Base class of every selector: validation and bookkeeping around one private hook.

A selector follows the scikit-learn estimator contract: ``__init__`` stores its
keyword-only parameters untouched, ``fit`` validates them, draws the seed and
calls ``_select``; learned state ends in ``_`` and ``fit`` returns ``self``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from datadiet._core import hash_ids, resolve_seed
from datadiet._core._budget import Budget
from datadiet._core._errors import DataError, DataTypeError
from datadiet.io._selection import Selection
from datadiet.signals._table import Signals

__all__ = ["BaseSelector", "Target", "Picked", "take_prefix", "check_choice", "check_number"]


@dataclass(frozen=True)
class Target:
    """A resolved budget: an exact number of examples, or a number of tokens."""

    examples: int | None = None
    tokens: float | None = None


@dataclass
class Picked:
    """What a selector's ``_select`` returns."""

    indices: np.ndarray
    repeats: np.ndarray | None = None
    weights: np.ndarray | None = None
    drop_reason: str | np.ndarray = "not_sampled"
    reason_names: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)


def check_choice(name: str, value: Any, allowed: tuple[Any, ...]) -> None:
    """Raise a ``ValueError`` naming the parameter, the allowed values and the given one."""
    if value not in allowed:
        raise DataError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")


def check_number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, integer: bool = False, allow_none: bool = False) -> None:
    """Raise ``TypeError`` / ``ValueError`` if ``value`` is not a number in the range."""
    if value is None and allow_none:
        return
    ok_types = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, ok_types):
        kind = "an integer" if integer else "a number"
        raise DataTypeError(f"{name} must be {kind}; got {value!r}")
    if not np.isfinite(value):
        raise DataError(f"{name} must be finite; got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise DataError(f"{name} must be {'>' if low_open else '>='} {low}; got {value!r}")
    if high is not None and value > high:
        raise DataError(f"{name} must be <= {high}; got {value!r}")


def take_prefix(order: np.ndarray, target: Target, tokens: np.ndarray | None) -> np.ndarray:
    """The first rows of ``order`` that fit the target (exact count, or tokens within one example)."""
    if target.examples is not None:
        return order[: target.examples]
    assert tokens is not None and target.tokens is not None
    csum = np.cumsum(tokens[order])
    return order[: int(np.searchsorted(csum, target.tokens, side="right"))]


class BaseSelector:
    """Base of all selectors.

    Subclasses set ``method`` (the name used by the CLI), ``requires`` (signals
    they need: ``"groups"``, ``"scores"``, ``"vectors"``, ``"text"``),
    ``allows_repeats`` (budget may exceed the input through repeats) and
    implement ``_select(signals, target, seed) -> Picked``.
    """

    method: ClassVar[str] = ""
    requires: ClassVar[tuple[str, ...]] = ()
    allows_repeats: ClassVar[bool] = False
    supports_tokens: ClassVar[bool] = True

    budget: Any
    seed: Any
    allow_all: bool

    # --- parameters ------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        return [p.name for p in inspect.signature(cls.__init__).parameters.values()
                if p.kind == p.KEYWORD_ONLY]

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters, as given."""
        return {k: getattr(self, k) for k in self._param_names()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _check_params(self) -> None:
        """Validate method-specific parameters (override; raise ValueError/TypeError)."""

    # --- fitting ---------------------------------------------------------
    def fit(self, signals: Signals | None = None, /, **arrays: Any) -> BaseSelector:
        """Choose examples from ``signals`` (or from arrays such as ``ids=``, ``groups=``).

        Sets ``selection_`` (a :class:`~datadiet.Selection`), ``selected_indices_``
        (kept positions in input order), ``repeats_`` and ``weights_`` (per kept
        position) and ``seed_`` (the integer seed used). Returns ``self``.
        """
        sig = signals if signals is not None else Signals.from_arrays(**arrays)
        if not isinstance(sig, Signals):
            raise DataTypeError(f"fit takes a Signals object or keyword arrays, got {type(sig).__name__}")
        full, null_rows = sig, sig.null_text_rows()
        if null_rows is not None:  # rows with null text take no part (on_null="skip"); recorded as null_text
            rows = np.setdiff1d(np.arange(len(sig)), null_rows)
            sig = sig.take(rows)
        self._check_params()
        for need in self.requires:
            have = {"groups": sig.groups, "vectors": sig.vectors, "text": sig.text,
                    "scores": sig.scores or None, "tokens": sig.tokens}[need]
            if have is None:
                flag = {"groups": "--group", "vectors": "--vectors", "text": "--text",
                        "scores": "--score", "tokens": "--tokens"}[need]
                raise DataError(f"{type(self).__name__} needs {need}: name a column with {flag}")
        n = len(sig)
        if n == 0:
            raise DataError("the input has no examples: nothing to select from")
        seed = resolve_seed(self.seed)
        target = self._target(sig)
        picked = self._select(sig, target, seed)
        sel = Selection.from_indices(
            sig.ids, picked.indices, repeats=picked.repeats, weights=picked.weights,
            drop_reason=picked.drop_reason, reason_names=picked.reason_names,
            method=self.method, params={**self.get_params(), "budget": str(Budget.parse(self.budget))
                                        if self.budget is not None else None, "seed": seed},
            seed=seed, metrics=picked.metrics,
        )
        sel.extra.update(picked.extra)
        sel.info.update(full.input_info())
        if null_rows is not None:
            sel = sel.expand(full.ids, rows, "null_text")
        if sig.tokens is not None:
            sel.metrics.setdefault("tokens_kept", int((sig.tokens * sel.repeats).sum()))
            sel.metrics.setdefault("tokens_input", int(sig.tokens.sum()))
        self.selection_ = sel
        self.selected_indices_ = sel.indices
        self.repeats_ = sel.repeats[sel.indices]
        self.weights_ = sel.weight[sel.indices]
        self.seed_ = seed
        return self

    def _target(self, sig: Signals) -> Target:
        if self.budget is None:
            return Target()
        b = Budget.parse(self.budget)
        n = len(sig)
        if b.is_tokens:
            if not self.supports_tokens:
                raise DataError(f"{type(self).__name__} does not take a token budget; give examples or a fraction")
            if sig.tokens is None:
                raise DataError("a token budget needs token counts: name a --tokens column or a --text column")
            total = float(sig.tokens.sum())
            if b.value > total and not self.allows_repeats:
                if not self.allow_all:
                    raise DataError(f"budget {b} is more than the {int(total)} tokens of the input; "
                                     "lower it, or pass --allow-all (allow_all=True) to keep everything")
                return Target(tokens=total)
            return Target(tokens=b.value)
        k = b.resolve(n)
        if k > n and not self.allows_repeats:
            if not self.allow_all:
                raise DataError(f"budget {b} asks for {k} examples but the input has only {n}; "
                                 "lower it, or pass --allow-all (allow_all=True) to keep everything")
            k = n
        if k == 0:
            raise DataError(f"budget {b} of {n} examples rounds to 0; ask for at least one example")
        return Target(examples=k)

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        raise NotImplementedError

    # --- helpers for subclasses ------------------------------------------
    @staticmethod
    def _tiebreak(sig: Signals, seed: int) -> np.ndarray:
        """Per-row hash used to break ties deterministically by id."""
        return hash_ids(sig.ids, seed ^ 0x5EED)
