"""No-duplicates batches: no two rows of a batch share a value (a positive id, an identical text).

What sentence-transformers' ``NoDuplicatesBatchSampler`` guarantees, without its
re-scan of all remaining rows for every batch: rows are visited once in a
seeded random order; a row that clashes with the open batch waits in a queue
that is tried first when the next batch opens. Rows still waiting at the end
form further batches (smaller ones if their values keep clashing), so every row
is used exactly once per epoch and no batch ever holds a duplicate.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from datadiet._core import DataError, hash_ids, register
from datadiet.negatives._batching import BatchComposer

__all__ = ["NoDuplicatesComposer"]


@register("batches")
class NoDuplicatesComposer(BatchComposer):
    """Batches in which no value (id or text) appears in two rows.

    Examples
    --------
    >>> c = NoDuplicatesComposer(batch_size=2).fit([["a", "a", "b", "c"]])
    >>> all(len({["a", "a", "b", "c"][i] for i in b}) == len(b) for b in c)
    True
    """

    method = "no-duplicates"
    summary = "no two rows of a batch share a positive or an identical text"

    def fit(self, columns: Any) -> NoDuplicatesComposer:
        """``columns``: a list of equally long columns (ids or texts) whose values must not repeat in a batch.

        Values are compared across columns too (an anchor equal to another row's
        positive clashes), as sentence-transformers does.
        """
        cols = [np.asarray(c) if not hasattr(c, "to_pylist") else c for c in columns]
        if not cols:
            raise DataError("NoDuplicatesComposer needs at least one column of values")
        n = len(cols[0])
        if any(len(c) != n for c in cols):
            raise DataError(f"every column must have {n} values; got lengths {[len(c) for c in cols]}")
        self._start_fit(n)
        hashed = np.stack([hash_ids(c if not isinstance(c, np.ndarray) or c.dtype.kind in "iuUSO"
                                    else c.astype(str)) for c in cols], axis=1)
        self._values = [set(r) for r in hashed.tolist()]
        return self

    def _epoch_batches(self, epoch: int) -> list[np.ndarray]:
        bs = self.batch_size
        order = np.argsort(self._epoch_keys(epoch), kind="stable").tolist()
        values = self._values
        batches: list[np.ndarray] = []
        cur: list[int] = []
        seen: set[int] = set()
        waiting: deque[int] = deque()

        def close() -> None:
            nonlocal cur, seen
            batches.append(np.array(cur, dtype=np.int64))
            cur, seen = [], set()

        def refill() -> None:
            for _ in range(len(waiting)):
                r = waiting.popleft()
                if len(cur) < bs and values[r].isdisjoint(seen):
                    cur.append(r)
                    seen.update(values[r])
                    if len(cur) == bs:
                        close()
                else:
                    waiting.append(r)

        for r in order:
            if values[r].isdisjoint(seen):
                cur.append(r)
                seen.update(values[r])
                if len(cur) == bs:
                    close()
                    refill()
            else:
                waiting.append(r)
        while waiting:
            refill()
            if cur:
                close()
        if cur:
            close()
        return batches
