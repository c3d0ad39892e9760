"""Chain selections: run a second method on what a first one kept."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datadiet._core._errors import DataError
from datadiet._core._hashing import hash_ids
from datadiet.io._selection import Selection

__all__ = ["chain"]

# totals of the second step describe only the rows it saw, not the input
_SUBSET_ONLY = ("tokens_kept", "tokens_input")


def chain(first: Selection, second: Selection) -> Selection:
    """Combine ``first`` with ``second``, a selection made on the rows ``first`` kept.

    Rows ``first`` dropped keep its reason; the others take ``second``'s outcome.
    Repeats and weights multiply. Method columns of both are kept (null where a
    method did not see the row). The manifest records both steps.

    Examples
    --------
    >>> import numpy as np
    >>> a = Selection.from_indices(ids=np.arange(6), indices=[0, 1, 2, 3], drop_reason="duplicate", method="dedup")
    >>> b = Selection.from_indices(ids=np.arange(4), indices=[1, 3], repeats=[2, 1], method="random")
    >>> c = chain(a, b)
    >>> c.counts(), c.repeats.tolist()
    ({'kept': 2, 'duplicate': 2, 'not_sampled': 2}, [0, 2, 0, 1, 0, 0])
    """
    kept_pos = first.indices
    if len(second) != len(kept_pos):
        raise DataError(f"the second selection has {len(second)} rows but the first kept {len(kept_pos)}: "
                         "make it from the rows the first one kept")
    h_first = hash_ids(first.ids.take(pa.array(kept_pos)), 0)
    h_second = hash_ids(second.ids, 0)
    order_first = np.argsort(h_first)
    order_second = np.argsort(h_second)
    if not np.array_equal(h_first[order_first], h_second[order_second]):
        raise DataError("the second selection's ids are not the rows the first one kept")
    pos = np.empty(len(second), dtype=np.int64)  # row of `first` for each row of `second`
    pos[order_second] = kept_pos[order_first]

    names = list(first.reason_names)
    remap = np.array([_index(names, r) for r in second.reason_names] or [0], dtype=np.int8)
    reason = first.reason.copy()
    reason[pos] = np.where(second.reason >= 0, remap[np.maximum(second.reason, 0)], -1)
    kept = first.kept.copy()
    kept[pos] = second.kept
    repeats = first.repeats.copy()
    repeats[pos] = first.repeats[pos] * second.repeats
    weight = first.weight.copy()
    weight[pos] = first.weight[pos] * second.weight
    extra = dict(first.extra)
    n = len(first)
    for name, col in second.extra.items():
        arr = col if isinstance(col, (pa.Array, pa.ChunkedArray)) else pa.array(col)
        mask = np.ones(n, dtype=bool)
        mask[pos] = False
        inverse = np.zeros(n, dtype=np.int64)
        inverse[pos] = np.arange(len(second))
        full = arr.take(pa.array(inverse))
        if mask.any():
            full = pc.if_else(pa.array(~mask), full, pa.scalar(None, type=arr.type))
        extra[name if name not in extra else f"{second.method}_{name}"] = full
    return Selection(
        ids=first.ids, kept=kept, weight=weight, repeats=repeats, reason=reason, reason_names=names, extra=extra,
        method=f"{first.method}+{second.method}",
        params={"steps": [{"method": first.method, **first.params}, {"method": second.method, **second.params}]},
        seed=second.seed if second.seed is not None else first.seed,
        metrics={**first.metrics, **{k: v for k, v in second.metrics.items() if k not in _SUBSET_ONLY}},
        info={**second.info, **first.info},
    )


def _index(names: list[str], name: str) -> int:
    if name not in names:
        names.append(name)
    return names.index(name)
