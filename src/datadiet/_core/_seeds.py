"""Seeds: resolved once per public call, sub-streams derived by name.

Every random choice of datadiet is a hash of ``(seed, id)``. A public call
resolves its ``seed`` parameter once with :func:`resolve_seed` (the integer it
returns is what the manifest records, so the run can be repeated), and every
independent stream inside the call comes from :func:`derived_seed` with a named
purpose, never from ad-hoc arithmetic on the seed.
"""

from __future__ import annotations

import numpy as np

from datadiet._core._errors import ParamError, ParamTypeError
from datadiet._core._hashing import hash_ids

__all__ = ["derived_seed", "resolve_seed", "tiebreak_keys"]


def resolve_seed(seed: int | np.random.Generator | None) -> int:
    """Turn ``int | Generator | None`` into the integer seed recorded in manifests.

    ``None`` draws fresh entropy and a ``Generator`` gives one draw; either way the
    returned integer reproduces the run when passed back as ``seed``.

    Examples
    --------
    >>> resolve_seed(7)
    7
    >>> s = resolve_seed(np.random.default_rng(0)); s == resolve_seed(np.random.default_rng(0))
    True
    """
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**63))  # type: ignore[operator]
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63 - 1))
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ParamTypeError("seed", "an int >= 0, a numpy Generator or None", seed)
    if seed < 0:
        raise ParamError("seed", "an int >= 0, a numpy Generator or None", seed)
    return int(seed)


def derived_seed(seed: int, purpose: str | int) -> int:
    """An independent seed for the sub-stream ``purpose`` of ``seed``.

    Stream ``0`` is ``seed`` itself; any other integer or name gives a seed that
    depends only on ``(seed, purpose)``.

    Examples
    --------
    >>> derived_seed(5, 0)
    5
    >>> derived_seed(5, "tiebreak") == derived_seed(5, "tiebreak") != derived_seed(5, "keys")
    True
    """
    if purpose == 0:
        return int(seed)
    key = np.array([purpose], dtype=object if isinstance(purpose, str) else np.int64)
    return int(hash_ids(key, int(seed))[0] >> np.uint64(1))


def tiebreak_keys(ids: object, seed: int) -> np.ndarray:
    """Per-row uint64 keys that break ties deterministically by ``(seed, id)``."""
    return hash_ids(ids, derived_seed(seed, "tiebreak"))
