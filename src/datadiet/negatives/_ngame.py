"""NGAME batches: rows whose positives are each other's mined negatives go into one batch.

NGAME (Dahiya et al., 2023) forms mini-batches so that in-batch negatives are
hard. Given the mined negatives of every row, two rows are linked when the
positive of one is among the negatives of the other. Each batch grows from a
seeded random row that is not yet placed, breadth first along the links, until
it is full (a new seed continues it when its neighbourhood is used up), so
linked rows land together and every row is used exactly once per epoch.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from datadiet._core import DataError, register
from datadiet.negatives._batching import BatchComposer

__all__ = ["NGAMEComposer"]


@register("batches")
class NGAMEComposer(BatchComposer):
    """Batches of rows linked by mined negatives (the positive of one is a negative of the other).

    Examples
    --------
    >>> import numpy as np
    >>> pos = np.array([0, 1, 2, 3]); neg = np.array([[2], [3], [0], [1]])
    >>> c = NGAMEComposer(batch_size=2).fit(pos, neg)
    >>> sorted(sorted(b) for b in c)
    [[0, 2], [1, 3]]
    """

    method = "ngame"
    summary = "rows whose positives are each other's mined negatives share a batch"

    def fit(self, positives: Any, negatives: Any) -> NGAMEComposer:
        """``positives`` (n,) document rows; ``negatives`` (n, k) document rows, ``-1`` where missing."""
        pos = np.asarray(positives, dtype=np.int64).ravel()
        neg = np.asarray(negatives, dtype=np.int64)
        if neg.ndim == 1:
            neg = neg[:, None]
        if neg.ndim != 2 or len(neg) != len(pos):
            raise DataError(f"negatives must be (rows, k) with {len(pos)} rows; got shape {neg.shape}")
        self._start_fit(len(pos))
        n = len(pos)
        # document -> rows having it as positive (CSR)
        by_doc = np.argsort(pos, kind="stable")
        docs_sorted = pos[by_doc]
        r, c = np.nonzero(neg >= 0)
        d = neg[r, c]
        lo = np.searchsorted(docs_sorted, d, side="left")
        hi = np.searchsorted(docs_sorted, d, side="right")
        cnt = hi - lo
        src = np.repeat(r, cnt)
        dst = by_doc[np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt) + np.repeat(lo, cnt)]
        a = np.r_[src, dst]
        b = np.r_[dst, src]
        keep = a != b
        edges = np.unique(np.stack([a[keep], b[keep]], axis=1), axis=0) if keep.any() else np.zeros((0, 2), np.int64)
        self.n_links_ = int(len(edges) // 2)
        self._indptr = np.r_[0, np.cumsum(np.bincount(edges[:, 0], minlength=n))].astype(np.int64)
        self._adj = edges[:, 1].astype(np.int64)
        return self

    def _epoch_batches(self, epoch: int) -> list[np.ndarray]:
        n, bs = self.n_rows_, self.batch_size
        order = np.argsort(self._epoch_keys(epoch), kind="stable").tolist()
        indptr, adj = self._indptr.tolist(), self._adj.tolist()
        done = bytearray(n)     # placed in a batch
        mark = [-1] * n         # queued for batch number ...
        batches: list[np.ndarray] = []
        cur: list[int] = []
        queue: deque[int] = deque()
        seeds = iter(order)
        while True:
            if not queue:
                s = next((x for x in seeds if not done[x]), None)
                if s is None:
                    break
                queue.append(s)
                mark[s] = len(batches)
            r = queue.popleft()
            if done[r]:
                continue
            done[r] = 1
            cur.append(r)
            if len(cur) == bs:
                batches.append(np.array(cur, dtype=np.int64))
                cur = []
                queue.clear()  # the next batch grows from its own seed
                continue
            b = len(batches)
            for j in adj[indptr[r]:indptr[r + 1]]:
                if not done[j] and mark[j] != b:
                    mark[j] = b
                    queue.append(j)
        if cur:
            batches.append(np.array(cur, dtype=np.int64))
        return batches
