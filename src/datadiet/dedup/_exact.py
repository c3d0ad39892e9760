"""Exact duplicates: equal text after normalisation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datadiet.dedup._base import BaseDedup, Combined, star_links
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


class ExactDedup(BaseDedup):
    """Drop rows whose text equals an earlier-kept row's text after normalisation.

    Parameters
    ----------
    normalize : Normalization or str, default "default"
        Lower-case, collapse whitespace, strip punctuation and apply NFKC before
        comparing (see :class:`Normalization`; ``None`` compares raw text).
    keep : {"first", "longest", "score", "random"}, default "first"
        Which row of each duplicate cluster is kept: the first in input order, the
        longest text, the highest ``score``, or a random one keyed by ``(seed, id)``.
    score : str, optional
        Score column for ``keep="score"``.
    seed : int, numpy Generator or None, default 0
    within : bool, default True
        In cross-set mode, also remove duplicates inside the training set (else
        only rows that duplicate the evaluation set).

    Examples
    --------
    >>> d = ExactDedup().fit(ids=["a", "b", "c"], text=["Hello world", "hello,  WORLD!", "other"])
    >>> d.selection_.counts(), d.selection_.extra["duplicate_of"].to_pylist()
    ({'kept': 2, 'duplicate': 1}, [None, 'a', None])
    """

    method = "exact"
    requires = ("text",)

    def __init__(self, *, normalize: Any = "default", keep: str = "first", score: str | None = None,
                 seed: int | np.random.Generator | None = 0, within: bool = True) -> None:
        self.normalize = normalize
        self.keep = keep
        self.score = score
        self.seed = seed
        self.within = within

    def _check_params(self) -> None:
        Normalization.parse(self.normalize)

    def _stages(self) -> list[Any]:
        return [ExactStage(self.normalize)]
