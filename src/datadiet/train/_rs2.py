"""RS2: a fresh random subset each round, without replacement across rounds."""

from __future__ import annotations

import numpy as np

from datadiet._core import REQUIRED, Param, ParamError, register
from datadiet.train._base import BaseSampler

__all__ = ["RS2Sampler"]


@register("train")
class RS2Sampler(BaseSampler):
    """Repeated Sampling of Random Subsets (RS2): each epoch (round) trains on ``fraction`` of the data.

    Without replacement (the default), the rounds walk through a random
    permutation of all ``n`` indices: every index appears once before any index
    repeats, and the next permutation starts where the previous one ended (a
    round may straddle two permutations; the indices such a round took from the
    end of one permutation go to the end of the next, so no round repeats an index). With ``replacement=True`` each round
    is an independent random subset (no repeats inside a round). The permutation
    of cycle ``c`` and the subset of round ``e`` are keyed by ``(seed, c or e, index)``.

    With ``num_replicas > 1`` the round size is rounded down to a multiple of
    ``num_replicas`` so shards are disjoint and equally long; coverage still
    holds because the next round continues where this one stopped.

    Examples
    --------
    >>> s = RS2Sampler(10, 0.3, seed=0)
    >>> len(s)
    3
    >>> seen = []
    >>> for e in range(4):
    ...     s.set_epoch(e)
    ...     seen += list(s)
    >>> sorted(seen[:10]) == list(range(10))
    True
    """

    method = "rs2"
    summary = "RS2: a fresh random subset per round, without replacement across rounds"
    params = (
        Param("n", "int", REQUIRED, "number of training examples", low=1, positional=True, cli=False),
        Param("fraction", "float", REQUIRED, "share of the examples per round", low=0, high=1, low_open=True,
              positional=True),
        Param("replacement", "bool", False, "independent subsets per round (indices may repeat across rounds)"),
    )

    def _setup(self) -> None:
        m = int(round(self.fraction * self.n))
        m -= m % self.num_replicas
        if m < 1:
            raise ParamError("fraction", f"large enough for at least {self.num_replicas} example(s) per round "
                             f"(n={self.n}, num_replicas={self.num_replicas})", self.fraction, "RS2Sampler")
        self.round_size_ = m
        self._tails: dict[int, np.ndarray] = {}

    def _perm(self, purpose: str, key: int) -> np.ndarray:
        return np.argsort(self._keys(purpose, key, np.arange(self.n)), kind="stable")

    def _cycle(self, c: int) -> np.ndarray:
        """Order of cycle ``c``: a fresh permutation, with the indices that share a round with the end
        of cycle ``c - 1`` moved to its end (so no round holds an index twice)."""
        perm = self._perm("rs2-cycle", c)
        tail = self._tail(c - 1) if c > 0 else np.zeros(0, np.int64)
        if not len(tail):
            return perm
        moved = np.isin(perm, tail)
        return np.concatenate([perm[~moved], perm[moved]])

    def _tail(self, c: int) -> np.ndarray:
        """Indices of cycle ``c`` in the round that continues into cycle ``c + 1`` (cached)."""
        tails = self._tails
        if c not in tails:
            for k in range(max([j for j in tails if j < c], default=-1) + 1, c + 1):
                end = (k + 1) * self.n
                t = end - (end // self.round_size_) * self.round_size_
                tails[k] = self._cycle(k)[self.n - t :] if t else np.zeros(0, np.int64)
        return tails[c]

    def _plan(self, epoch: int) -> np.ndarray:
        n, m = self.n, self.round_size_
        if self.replacement:
            return self._perm("rs2-round", epoch)[:m]
        start = epoch * m
        c0, c1 = start // n, (start + m - 1) // n
        cycles = np.concatenate([self._cycle(c) for c in range(c0, c1 + 1)])
        off = start - c0 * n
        return cycles[off : off + m]
