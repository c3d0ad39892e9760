"""Base class of every selector: validation and bookkeeping around one private hook.

A selector follows the scikit-learn estimator contract: ``__init__`` stores its
keyword-only parameters untouched, ``fit`` validates them, draws the seed and
calls ``_select``; learned state ends in ``_`` and ``fit`` returns ``self``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from datadiet._core import (
    REQUIRED,
    Budget,
    Declared,
    Param,
    ParamError,
    Target,
    resolve_seed,
    tiebreak_keys,
)
from datadiet._core._errors import DataError, DataTypeError
from datadiet._core._rows import require_finite_rows
from datadiet.io._selection import Selection
from datadiet.select._scores import NORMALIZE
from datadiet.signals._table import Signals

__all__ = ["BaseSelector", "Target", "Picked", "take_prefix", "BUDGETED", "SCORE_PARAMS"]

#: The parameters of every selector that keeps a budget.
BUDGETED = (
    Param("budget", "budget", REQUIRED, "examples (1000), a fraction (10% or 0.1) or tokens (5M-tokens)",
          aliases=("-b",)),
    Param("seed", "seed", 0, "seed of every random choice (None: fresh entropy, recorded in the manifest)"),
    Param("allow_all", "bool", False, "keep everything when the budget exceeds the input instead of failing"),
)

#: How several score columns are combined into one (see :func:`~datadiet.select.combine_scores`).
SCORE_PARAMS = (
    Param("weights", "mapping", None, "weight of each score column when combining several", none=True,
          metavar="COL=W,...", aliases=("--score-weights",)),
    NORMALIZE,
)

_SIGNAL_HINT = {"groups": "a group or label column", "vectors": "vectors (a vector column or an embedding model)",
                "text": "a text column", "scores": "at least one score column", "tokens": "token counts"}


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


def take_prefix(order: np.ndarray, target: Target, tokens: np.ndarray | None) -> np.ndarray:
    """The first rows of ``order`` that fit the target (exact count, or tokens within one example)."""
    if target.examples is not None:
        return order[: target.examples]
    assert tokens is not None and target.tokens is not None
    csum = np.cumsum(tokens[order])
    return order[: int(np.searchsorted(csum, target.tokens, side="right"))]


class BaseSelector(Declared):
    """Base of all selectors.

    Subclasses declare ``params`` (usually ``BUDGETED`` plus their own), set
    ``method`` (the registry name), ``requires`` (signals they need: ``"groups"``,
    ``"scores"``, ``"vectors"``, ``"text"``) and implement
    ``_select(signals, target, seed) -> Picked``; ``repeats_allowed()`` says
    whether the budget may exceed the input through repeats.
    """

    requires: ClassVar[tuple[str, ...]] = ()
    supports_tokens: ClassVar[bool] = True
    #: Engines that can run the method (``datadiet select --engine``).
    engines: ClassVar[tuple[str, ...]] = ("local", "ray")

    def repeats_allowed(self) -> bool:
        """Whether this configuration may repeat examples (then the budget may exceed the input)."""
        return False

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
        self.validate_params()
        n = len(sig)
        if n == 0:
            raise DataError("the input has no examples: nothing to select from")
        for need in self.requires:
            have = {"groups": sig.groups, "vectors": sig.vectors, "text": sig.text,
                    "scores": sig.scores or None, "tokens": sig.tokens}[need]
            if have is None:
                raise DataError(f"{type(self).__name__} needs {_SIGNAL_HINT[need]}; the input has none")
        if sig.vectors is not None and "vectors" in self.requires:
            require_finite_rows(sig.vectors, sig.ids)
        seed = resolve_seed(getattr(self, "seed", 0))
        target = self._target(sig)
        picked = self._select(sig, target, seed)
        sel = Selection.from_indices(
            sig.ids, picked.indices, repeats=picked.repeats, weights=picked.weights,
            drop_reason=picked.drop_reason, reason_names=picked.reason_names,
            method=self.method, params={**self.manifest_params(), "seed": seed}, seed=seed,
            metrics=picked.metrics,
        )
        sel.extra.update(picked.extra)
        sel.info.update(full.input_info())
        if null_rows is not None:
            sel = sel.expand(full.ids, rows, "null_text")
        if full.tokens is not None:
            sel.metrics.setdefault("tokens_kept", int((full.tokens * sel.repeats).sum()))
            sel.metrics.setdefault("tokens_input", int(full.tokens.sum()))
        self.selection_ = sel
        self.selected_indices_ = sel.indices
        self.repeats_ = sel.repeats[sel.indices]
        self.weights_ = sel.weight[sel.indices]
        self.seed_ = seed
        return self

    def _target(self, sig: Signals) -> Target:
        if getattr(self, "budget", None) is None:
            return Target()
        b = Budget.parse(self.budget)
        n = len(sig)
        if b.is_tokens:
            if not self.supports_tokens:
                raise DataError(f"{type(self).__name__} does not take a token budget; give examples or a fraction")
            if sig.tokens is None:
                raise DataError("a token budget needs token counts: load a token-count or a text column")
            total = float(sig.tokens.sum())
            if b.value > total and not self.repeats_allowed():
                if not self.allow_all:
                    raise ParamError("budget", f"at most the {int(total)} tokens of the input; lower it, or set "
                                     "`allow_all` to keep everything", str(b), type(self).__name__)
                return Target(tokens=total)
            return Target(tokens=b.value)
        k = b.resolve(n)
        if k > n and not self.repeats_allowed():
            if not self.allow_all:
                raise ParamError("budget", f"at most the {n} examples of the input (it asks for {k}); lower it, "
                                 "or set `allow_all` to keep everything", str(b), type(self).__name__)
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
        return tiebreak_keys(sig.ids, seed)
