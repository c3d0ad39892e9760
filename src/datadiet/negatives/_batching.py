"""The base of batch composers: a torch-compatible ``batch_sampler`` without torch.

A composer yields lists of row indices. Subclasses implement ``fit`` (remember
what they need, set ``n_rows_``) and ``_epoch_batches(epoch)`` (all batches of
one epoch, every row exactly once, for all replicas together). The base class
adds what a training loop needs:

* ``set_epoch(e)`` -- a new, seed-determined composition per epoch;
* ``num_replicas`` / ``rank`` -- replica ``rank`` gets batches ``rank, rank + R, ...``
  of the epoch, so the replicas together see every row exactly once (their batch
  counts differ by at most one unless ``drop_last``);
* ``state_dict()`` / ``load_state_dict()`` -- the epoch and the number of batches
  already yielded: a restored composer continues with the very next batch.
  With a prefetching ``DataLoader`` the sampler runs ahead of training; use
  torchdata's ``StatefulDataLoader``, which accounts for that.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np

from datadiet._core import DataError, Declared, Param, derived_seed, uniform_keys

__all__ = ["BatchComposer"]


class BatchComposer(Declared):
    """Base of the batch composers (not registered itself)."""

    params: ClassVar[tuple[Param, ...]] = (
        Param("batch_size", "int", 32, "rows per batch", low=1),
        Param("drop_last", "bool", False, "drop incomplete batches (and even out the replicas)"),
        Param("seed", "seed", 0, "seed of the composition; each epoch derives its own stream"),
        Param("num_replicas", "int", 1, "number of distributed replicas", low=1),
        Param("rank", "int", 0, "this replica's rank, 0 <= rank < num_replicas", low=0),
    )

    def _check_params(self) -> None:
        if self.rank >= self.num_replicas:
            raise DataError(f"{type(self).__name__}: rank ({self.rank}) must be smaller than num_replicas "
                            f"({self.num_replicas})")

    # ------------------------------------------------------------ subclass hooks
    def _epoch_batches(self, epoch: int) -> list[np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _start_fit(self, n: int) -> None:
        from datadiet._core import resolve_seed

        self.validate_params()
        if n == 0:
            raise DataError(f"{type(self).__name__}: there are no rows to put into batches")
        self.seed_ = resolve_seed(self.seed)
        self.n_rows_ = int(n)
        self.epoch_ = getattr(self, "epoch_", 0)
        self._yielded = 0
        self._cache: tuple[int, list[list[int]]] | None = None

    def _epoch_keys(self, epoch: int, purpose: str = "order") -> np.ndarray:
        """Uniform keys of every row for this epoch (keyed by (seed, epoch, row))."""
        return uniform_keys(np.arange(self.n_rows_), derived_seed(self.seed_, f"{purpose}-{epoch}"))

    # ------------------------------------------------------------ sampler protocol
    def _check_fitted(self) -> None:
        if not hasattr(self, "n_rows_"):
            raise DataError(f"{type(self).__name__} is not fitted: call .fit(...) before iterating")

    def _mine(self) -> list[list[int]]:
        self._check_fitted()
        if self._cache is not None and self._cache[0] == self.epoch_:
            return self._cache[1]
        batches = self._epoch_batches(self.epoch_)
        order = np.argsort(self._epoch_keys(self.epoch_, "batches")[: len(batches)], kind="stable")
        batches = [batches[i] for i in order]
        if self.drop_last:
            batches = [b for b in batches if len(b) == self.batch_size]
            batches = batches[: len(batches) - len(batches) % self.num_replicas]
        mine = [b.tolist() for b in batches[self.rank::self.num_replicas]]
        self._cache = (self.epoch_, mine)
        return mine

    def __iter__(self) -> Iterator[list[int]]:
        mine = self._mine()
        if self._yielded >= len(mine):
            self._yielded = 0
        while self._yielded < len(mine):
            self._yielded += 1
            yield mine[self._yielded - 1]

    def __len__(self) -> int:
        return len(self._mine())

    def set_epoch(self, epoch: int) -> None:
        """Compose the batches of ``epoch`` (a new epoch starts from its first batch)."""
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise DataError(f"epoch must be an integer >= 0; got {epoch!r}")
        if int(epoch) != getattr(self, "epoch_", 0):
            self._yielded = 0
        self.epoch_ = int(epoch)

    def state_dict(self) -> dict[str, Any]:
        """Where the composer stands: ``{"epoch", "batches_yielded", "seed", "rows"}``."""
        self._check_fitted()
        return {"epoch": self.epoch_, "batches_yielded": self._yielded, "seed": self.seed_, "rows": self.n_rows_}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`state_dict` (same data, same parameters)."""
        self._check_fitted()
        if state.get("rows") != self.n_rows_ or state.get("seed") != self.seed_:
            raise DataError(f"{type(self).__name__}: the state is of {state.get('rows')} rows with seed "
                            f"{state.get('seed')}, this composer has {self.n_rows_} rows with seed {self.seed_}")
        self.epoch_ = int(state["epoch"])
        self._yielded = int(state["batches_yielded"])


def chunk(order: np.ndarray, size: int) -> list[np.ndarray]:
    """``order`` cut into consecutive pieces of ``size`` (the last may be shorter)."""
    return [order[i:i + size] for i in range(0, len(order), size)]
