"""Drop the training rows with the lowest KNN-Shapley values."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from datadiet._core import Param, register
from datadiet._core._errors import DataError
from datadiet.select._base import BUDGETED, BaseSelector, Picked, Target
from datadiet.signals._table import Signals
from datadiet.value._knn_shapley import KNNShapley, knn_shapley

__all__ = ["KNNShapleySelector"]


@register("select")
class KNNShapleySelector(BaseSelector):
    """Keep the ``budget`` rows with the highest KNN-Shapley values (drop the lowest).

    Values come from :class:`~datadiet.value.KNNShapley` on the vectors and the
    label (group) column. Without validation data (``val_vectors`` and
    ``val_labels``, Python API only) every row is a validation row for the others,
    leaving itself out, so the command line needs nothing but ``--vectors``/``--model``
    and ``--label``. Dropped rows get reason ``low_value``; every row's value is in
    the selection's ``score`` column, and the manifest counts the negative ones.

    Ties are broken by ``(seed, id)`` keys; the values themselves do not depend on
    the seed.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 1.0], [0.1, 1.0], [0.2, 1.0], [1.0, 0.0], [1.0, 0.1], [1.0, 0.2], [0.05, 1.0]])
    >>> y = ["a", "a", "a", "b", "b", "b", "b"]
    >>> sel = KNNShapleySelector(budget=6, k=3).fit(vectors=X, groups=y)
    >>> sel.selection_.counts()
    {'kept': 6, 'low_value': 1}
    >>> value = sel.selection_.extra["score"]           # the dropped row has the lowest value
    >>> bool(value[~sel.selection_.kept][0] == value.min())
    True
    """

    method = "knn-shapley"
    summary = "drop the rows with the lowest KNN-Shapley values (likely label errors)"
    example = "datadiet select knn-shapley data.jsonl --model static --label topic -b 90% -o kept.parquet"
    requires: ClassVar[tuple[str, ...]] = ("vectors", "groups")
    supports_tokens: ClassVar[bool] = False
    engines: ClassVar[tuple[str, ...]] = ("local",)

    params = (
        *BUDGETED,
        *KNNShapley.params,
        Param("val_vectors", "object", None, "validation vectors (None: rows value each other)", none=True,
              cli=False),
        Param("val_labels", "object", None, "labels of the validation vectors", none=True, cli=False),
    )

    def _check_params(self) -> None:
        KNNShapley._check_params(self)  # type: ignore[arg-type]
        if (self.val_vectors is None) != (self.val_labels is None):
            from datadiet._core import ParamError

            raise ParamError("val_labels", "given together with val_vectors (or both None)",
                             type(self.val_labels).__name__, type(self).__name__)

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        assert sig.vectors is not None and sig.groups is not None
        if len(sig) < 2 and self.val_vectors is None:
            raise DataError("knn-shapley needs at least 2 rows to value them against each other")
        labels = np.asarray(sig.group_names, dtype=object)[sig.groups]
        val_labels: Any = None if self.val_labels is None else np.asarray(self.val_labels).astype(str)
        values = knn_shapley(sig.vectors, labels.astype(str), self.val_vectors, val_labels, k=self.k,
                             metric=self.metric, k_star=self.k_star, ids=sig.ids, batch_size=self.batch_size)
        assert target.examples is not None
        order = np.lexsort((self._tiebreak(sig, seed), -values))
        chosen = np.sort(order[: target.examples])
        metrics = {"negative_values": int((values < 0).sum()), "min_value": float(values.min()),
                   "kept_min_value": float(values[chosen].min()),
                   "validation": "given" if self.val_vectors is not None else "each other"}
        return Picked(chosen, drop_reason="low_value", extra={"score": values}, metrics=metrics)
