"""Several dedup methods in one pass: exact, then near, then semantic."""

from __future__ import annotations

from typing import Any

from datadiet._core import Param, ParamError
from datadiet.dedup._base import KEEP_PARAMS, BaseDedup
from datadiet.dedup._exact import ExactDedup, ExactStage
from datadiet.dedup._near import NearDedup, NearStage
from datadiet.dedup._semantic import SemanticDedup, SemanticStage

__all__ = ["Dedup"]


class Dedup(BaseDedup):
    """Run exact, near-duplicate and semantic dedup in turn, with one keep policy.

    Each stage sees only the rows the previous stages kept; a dropped row's
    ``duplicate_of`` names the row finally kept and ``dup_method`` the stage
    that dropped it.


    Examples
    --------
    >>> docs = ["one two three four five six", "One two three four five six!",
    ...         "one two three four five six seven", "something else"]
    >>> d = Dedup(exact=True, near=0.6).fit(text=docs)
    >>> d.selection_.extra["dup_method"].to_pylist()
    [None, 'exact', 'near', None]
    """

    method = "dedup"

    params = (
        Param("exact", "bool", True, "exact duplicates after normalisation (an ExactDedup sets its options)",
              also=(ExactDedup,)),
        Param("near", "float", None, "Jaccard threshold of near duplicates (or a configured NearDedup)",
              low=0, high=1, low_open=True, none=True, also=(NearDedup,)),
        Param("semantic", "float", None, "cosine threshold of semantic duplicates (or a configured SemanticDedup)",
              low=-1, high=1, none=True, also=(SemanticDedup,)),
        *KEEP_PARAMS,
    )

    def _parts(self) -> tuple[ExactDedup | None, NearDedup | None, SemanticDedup | None]:
        ex = self.exact if isinstance(self.exact, ExactDedup) else ExactDedup() if self.exact else None
        nd = self.near if isinstance(self.near, NearDedup) or self.near is None \
            else NearDedup(threshold=float(self.near))
        sd = self.semantic if isinstance(self.semantic, SemanticDedup) or self.semantic is None \
            else SemanticDedup(threshold=float(self.semantic))
        return ex, nd, sd

    def _check_params(self) -> None:
        ex, nd, sd = self._parts()
        if ex is None and nd is None and sd is None:
            raise ParamError("exact", "True, or near or semantic given (nothing to do otherwise)", self.exact,
                             "Dedup")
        for part in (ex, nd, sd):
            if part is not None:
                part.validate_params()

    def _requires(self) -> tuple[str, ...]:
        ex, nd, sd = self._parts()
        return (("text",) if ex is not None or nd is not None else ()) + (("vectors",) if sd is not None else ())

    def _stages(self, seed: int) -> list[Any]:
        ex, nd, sd = self._parts()
        stages: list[Any] = []
        if ex is not None:
            stages.append(ExactStage(ex.normalize))
        if nd is not None:
            near = NearStage(nd)
            self.lsh_ = near.lsh
            stages.append(near)
        if sd is not None:
            stages.append(SemanticStage(sd, seed))
        return stages
