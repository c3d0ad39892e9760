"""The bottom layer: parameter declarations and validation, errors, seeds, budgets, progress, the registry.

Every layer may import it; it imports no other layer of datadiet.
"""

from datadiet._core._budget import Budget, Target
from datadiet._core._errors import (
    DatadietError,
    DataError,
    DataTypeError,
    MissingExtraError,
    OutputExistsError,
    ParamError,
    ParamTypeError,
)
from datadiet._core._hashing import hash_ids, splitmix64, uniform_keys
from datadiet._core._params import REQUIRED, Declared, Param, jsonable
from datadiet._core._progress import progress, set_progress
from datadiet._core._registry import lookup, register, registered, unregister
from datadiet._core._seeds import derived_seed, resolve_seed, tiebreak_keys

__all__ = [
    "REQUIRED",
    "Budget",
    "DataError",
    "DataTypeError",
    "DatadietError",
    "Declared",
    "MissingExtraError",
    "OutputExistsError",
    "Param",
    "ParamError",
    "ParamTypeError",
    "Target",
    "derived_seed",
    "hash_ids",
    "jsonable",
    "lookup",
    "progress",
    "register",
    "registered",
    "resolve_seed",
    "set_progress",
    "splitmix64",
    "tiebreak_keys",
    "uniform_keys",
    "unregister",
]
