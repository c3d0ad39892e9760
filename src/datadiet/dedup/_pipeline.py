"""Several dedup methods in one pass: exact, then near, then semantic."""

from __future__ import annotations

from typing import Any

import numpy as np

from datadiet._core._errors import DataError, DataTypeError
from datadiet.dedup._base import BaseDedup
from datadiet.dedup._exact import ExactDedup, ExactStage
from datadiet.dedup._near import NearDedup, NearStage
from datadiet.dedup._semantic import SemanticDedup, SemanticStage

__all__ = ["Dedup"]


class Dedup(BaseDedup):
    """Run exact, near-duplicate and semantic dedup in turn, with one keep policy.

    Each stage sees only the rows the previous stages kept; a dropped row's
    ``duplicate_of`` names the row finally kept and ``dup_method`` the stage
    that dropped it.

    Parameters
    ----------
    exact : bool or ExactDedup, default True
        Exact duplicates after normalisation (an ``ExactDedup`` sets its options).
    near : float, NearDedup or None, default None
        Jaccard threshold of near duplicates (or a configured ``NearDedup``).
    semantic : float, SemanticDedup or None, default None
        Cosine threshold of semantic duplicates (or a configured ``SemanticDedup``).
    keep : {"first", "longest", "score", "random"}, default "first"
        Keep policy of every stage (the stages' own ``keep`` is not used).
    score : str, optional
    seed : int, numpy Generator or None, default 0
    within : bool, default True
        In cross-set mode, also remove duplicates inside the training set.

    Examples
    --------
    >>> docs = ["one two three four five six", "One two three four five six!",
    ...         "one two three four five six seven", "something else"]
    >>> d = Dedup(exact=True, near=0.6).fit(text=docs)
    >>> d.selection_.extra["dup_method"].to_pylist()
    [None, 'exact', 'near', None]
    """

    method = "dedup"

    def __init__(self, *, exact: bool | ExactDedup = True, near: float | NearDedup | None = None,
                 semantic: float | SemanticDedup | None = None, keep: str = "first", score: str | None = None,
                 seed: int | np.random.Generator | None = 0, within: bool = True) -> None:
        self.exact = exact
        self.near = near
        self.semantic = semantic
        self.keep = keep
        self.score = score
        self.seed = seed
        self.within = within

    def _parts(self) -> tuple[ExactDedup | None, NearDedup | None, SemanticDedup | None]:
        if isinstance(self.exact, ExactDedup):
            ex: ExactDedup | None = self.exact
        elif isinstance(self.exact, (bool, np.bool_)):
            ex = ExactDedup() if self.exact else None
        else:
            raise DataTypeError(f"exact must be True, False or an ExactDedup; got {self.exact!r}")
        if self.near is None or isinstance(self.near, NearDedup):
            nd = self.near
        elif isinstance(self.near, (int, float)) and not isinstance(self.near, bool):
            nd = NearDedup(threshold=float(self.near))
        else:
            raise DataTypeError(f"near must be a Jaccard threshold in (0, 1), a NearDedup or None; got {self.near!r}")
        if self.semantic is None or isinstance(self.semantic, SemanticDedup):
            sd = self.semantic
        elif isinstance(self.semantic, (int, float)) and not isinstance(self.semantic, bool):
            sd = SemanticDedup(threshold=float(self.semantic))
        else:
            raise DataTypeError(f"semantic must be a cosine threshold, a SemanticDedup or None; got {self.semantic!r}")
        return ex, nd, sd

    def _check_params(self) -> None:
        ex, nd, sd = self._parts()
        if ex is None and nd is None and sd is None:
            raise DataError("nothing to do: turn on at least one of exact, near or semantic")
        for part in (ex, nd, sd):
            if part is not None:
                part._check_params()

    def _requires(self) -> tuple[str, ...]:
        ex, nd, sd = self._parts()
        return (("text",) if ex is not None or nd is not None else ()) + (("vectors",) if sd is not None else ())

    def _stages(self) -> list[Any]:
        from datadiet._core import resolve_seed

        ex, nd, sd = self._parts()
        stages: list[Any] = []
        if ex is not None:
            stages.append(ExactStage(ex.normalize))
        if nd is not None:
            self.near_ = nd
            nd.lsh_ = nd.lsh_ if hasattr(nd, "lsh_") else None  # type: ignore[assignment]
            nd._check_params()
            stages.append(NearStage(nd))
            self.lsh_ = nd.lsh_
        if sd is not None:
            sd.seed_int = resolve_seed(self.seed) if not isinstance(self.seed, np.random.Generator) else 0
            stages.append(SemanticStage(sd))
        self._stage_objs = stages
        return stages
