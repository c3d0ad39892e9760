"""Exact duplicates: equal text after normalisation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datadiet._core import Param, register
from datadiet.dedup._base import KEEP_PARAMS, BaseDedup, Combined, star_links
from datadiet.dedup._normalize import Normalization, as_text_array

__all__ = ["ExactDedup", "ExactStage"]


class ExactStage:
    """Rows whose normalised texts are equal (grouped by pyarrow's hash table: no collisions)."""

    name = "exact"
    iterate = False

    def __init__(self, normalize: Any) -> None:
        self.norm = Normalization.parse(normalize)
        self.metrics: dict[str, Any] = {}

    def links(self, comb: Combined, active: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        text = as_text_array(comb.sig.text)
        rows = np.flatnonzero(active)
        sub = text if rows.size == len(text) else pc.take(text, pa.array(rows))
        groups = pc.dictionary_encode(self.norm.apply(sub)).indices.to_numpy(zero_copy_only=False)
        return star_links(groups, rows, rank)


@register("dedup")
class ExactDedup(BaseDedup):
    """Drop rows whose text equals an earlier-kept row's text after normalisation.

    Examples
    --------
    >>> d = ExactDedup().fit(ids=["a", "b", "c"], text=["Hello world", "hello,  WORLD!", "other"])
    >>> d.selection_.counts(), d.selection_.extra["duplicate_of"].to_pylist()
    ({'kept': 2, 'duplicate': 1}, [None, 'a', None])
    """

    method = "exact"
    requires = ("text",)

    params = (
        Param("normalize", "any", "default", "normalisation before comparing: comma list of lower, space, punct, "
              "nfkc, 'default' or 'none'"),
        *KEEP_PARAMS,
    )

    def _check_params(self) -> None:
        Normalization.parse(self.normalize)

    def _stages(self, seed: int) -> list[Any]:
        return [ExactStage(self.normalize)]
