"""What every train-time sampler shares: epochs, resumable position, shards, keyed randomness.

A sampler plans the indices of one epoch for all replicas at once (the hook
:meth:`BaseSampler._plan`), keeps the part of its replica (``rank::num_replicas``
after dropping the last ``len % num_replicas`` indices, so shards are disjoint
and equally long) and yields them from its saved position. Every random choice
is a hash of ``(seed, purpose, epoch, index)``; nothing reads the global RNG.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np

from datadiet._core import (
    DataError,
    DataTypeError,
    Declared,
    Param,
    ParamError,
    derived_seed,
    resolve_seed,
    uniform_keys,
)

__all__ = ["BaseSampler", "epoch_keys"]


def epoch_keys(seed: int, purpose: str, epoch: int, ids: Any) -> np.ndarray:
    """Uniform(0, 1) keys of ``ids`` for one purpose and epoch, keyed by ``(seed, purpose, epoch, id)``."""
    arr = np.asarray(ids)
    return uniform_keys(arr.astype(np.int64) if arr.dtype.kind in "iub" else arr,
                        derived_seed(seed, f"{purpose}:{int(epoch)}"))


class BaseSampler(Declared):
    """Base of the train-time samplers (not registered).

    Subclasses implement ``_plan(epoch) -> ndarray`` (global indices of that
    epoch, in order) and may extend ``_extra_state`` / ``_load_extra_state``.
    """

    params: ClassVar[tuple[Param, ...]] = (
        Param("num_replicas", "int", 1, "number of distributed replicas (shards)", low=1, cli=False),
        Param("rank", "int", 0, "this replica's shard, in [0, num_replicas)", low=0, cli=False),
        Param("seed", "seed", 0, "seed of every random choice (keyed by seed, epoch and index or id)"),
        Param("ids", "object", None, "stable id of each example (ints or strings): random choices are keyed "
              "by id, so a reordered dataset gets the same examples", none=True, cli=False),
    )
    #: learning samplers take ``update(indices, losses)``
    learns: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.validate_params()
        self.seed_ = resolve_seed(self.seed)
        self._epoch = 0
        self._pos = 0
        self._cache: tuple[int, np.ndarray] | None = None
        self._ids: np.ndarray | None = None
        self._setup()
        if self.ids is not None:
            ids = np.asarray(_to_numpy(self.ids))
            n = int(self.n)
            if ids.ndim != 1 or len(ids) != n or ids.dtype.kind not in "iuUSO":
                raise DataError(f"{type(self).__name__}: ids must be {n} integers or strings (one per example); "
                                f"got {ids.dtype} of shape {ids.shape}")
            if len(np.unique(ids)) != n:
                raise DataError(f"{type(self).__name__}: ids must be unique; {n - len(np.unique(ids))} repeat")
            self._ids = ids
            self._setup()  # again: state keyed by ids (e.g. curriculum tie-breaks) uses them now

    # --- hooks -----------------------------------------------------------
    def _setup(self) -> None:
        """Learned state after validation (override)."""

    def _plan(self, epoch: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        pass

    def _check_params(self) -> None:
        if self.rank >= self.num_replicas:
            raise ParamError("rank", f"an integer in [0, {self.num_replicas})", self.rank, type(self).__name__)

    def _check_epoch(self, epoch: int) -> None:
        """Raise when ``epoch`` is not allowed (override to bound it)."""

    # --- epochs ----------------------------------------------------------
    @property
    def epoch(self) -> int:
        """The current epoch."""
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Start epoch ``epoch`` from its beginning (as ``DistributedSampler.set_epoch``)."""
        if isinstance(epoch, (bool, np.bool_)) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise DataTypeError(f"{type(self).__name__}.set_epoch: epoch must be an integer >= 0; got {epoch!r}")
        self._check_epoch(int(epoch))
        if int(epoch) != self._epoch:
            self._cache = None
        self._epoch, self._pos = int(epoch), 0

    def epoch_indices(self) -> np.ndarray:
        """All replicas' indices of the current epoch (planned once per epoch, then fixed)."""
        if self._cache is None or self._cache[0] != self._epoch:
            self._check_epoch(self._epoch)
            plan = np.asarray(self._plan(self._epoch), dtype=np.int64)
            self._cache = (self._epoch, plan[: len(plan) - len(plan) % self.num_replicas])
        return self._cache[1]

    def shard_indices(self) -> np.ndarray:
        """This replica's indices of the current epoch."""
        return self.epoch_indices()[self.rank :: self.num_replicas]

    def __len__(self) -> int:
        return len(self.shard_indices())

    def __iter__(self) -> Iterator[int]:
        # an exhausted epoch moves on to the next one when iteration starts again
        # (not when it ends: the last batch may still ask for its weights)
        if self._cache is not None and self._cache[0] == self._epoch and self._pos >= len(self) > 0:
            self._check_epoch(self._epoch + 1)
            self._epoch, self._pos, self._cache = self._epoch + 1, 0, None
        order = self.shard_indices()
        while self._pos < len(order):
            i = int(order[self._pos])
            self._pos += 1
            yield i

    def epoch_selection(self, ids: Any = None) -> Any:
        """This epoch (all replicas) as a :class:`~datadiet.io.Selection`: repeats and loss weight per example.

        Examples not drawn this epoch are dropped with reason ``not_sampled``; the
        manifest records the sampler's parameters, seed and epoch, so each epoch
        can be logged (``sel.write(f"epoch-{e}.parquet")``) and reported.
        """
        from datadiet.io import Selection

        n = int(self.n)
        counts = np.bincount(self.epoch_indices(), minlength=n)
        idx = np.flatnonzero(counts)
        if ids is None:
            ids = np.arange(n, dtype=np.int64)
        else:
            from datadiet._core._hashing import as_arrow
            from datadiet.io._ids import check_unique

            ids = _to_numpy(ids)
            check_unique(as_arrow(ids), None, python="ids")
        return Selection.from_indices(ids, idx, repeats=counts[idx], weights=self.loss_weights(idx),
                                      drop_reason="not_sampled", method=self.method,
                                      params=self.manifest_params(), seed=self.seed_,
                                      info={"epoch": self._epoch})

    def wants_losses(self) -> bool:
        """Whether :meth:`update` should be called with each step's per-example losses."""
        return bool(self.learns)

    def loss_weights(self, indices: Any) -> np.ndarray:
        """Loss scale of each index this epoch (1 unless the sampler reweights)."""
        return np.ones(len(np.asarray(_to_numpy(indices))))

    # --- state -----------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: epoch, position in it, the planned epoch and learned state."""
        state: dict[str, Any] = {"class": type(self).__name__, "epoch": self._epoch, "position": self._pos,
                                 "seed": self.seed_}
        if self._cache is not None and self._cache[0] == self._epoch:
            state["plan"] = self._cache[1].copy()
        state.update(self._extra_state())
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume from :meth:`state_dict` (``position`` may be set to the number of consumed indices)."""
        name = type(self).__name__
        if not isinstance(state, dict) or "epoch" not in state or "position" not in state:
            raise DataError(f"{name}.load_state_dict: expected the dict of {name}.state_dict(); got {type(state).__name__}")
        if state.get("class", name) != name:
            raise DataError(f"{name}.load_state_dict: this state is of a {state['class']}; use that class")
        if int(state.get("seed", self.seed_)) != self.seed_:
            raise DataError(f"{name}.load_state_dict: the state was saved with seed {state['seed']}, "
                            f"this sampler has seed {self.seed_}; build it with the same seed")
        self._load_extra_state(state)
        self._epoch, self._pos = int(state["epoch"]), int(state["position"])
        plan = state.get("plan")
        self._cache = None if plan is None else (self._epoch, np.asarray(plan, dtype=np.int64))
        if self._pos < 0 or self._pos > len(self):
            raise DataError(f"{name}.load_state_dict: position {self._pos} is outside the epoch (0..{len(self)})")

    # --- helpers ---------------------------------------------------------
    def _keys(self, purpose: str, epoch: int, indices: np.ndarray) -> np.ndarray:
        """Keys of examples (by id when ``ids`` were given, else by index)."""
        idx = np.asarray(indices, dtype=np.int64)
        return epoch_keys(self.seed_, purpose, epoch, idx if self._ids is None else self._ids[idx])

    def _pos_keys(self, purpose: str, epoch: int, positions: np.ndarray) -> np.ndarray:
        """Keys of positions in an epoch (not of examples)."""
        return epoch_keys(self.seed_, purpose, epoch, positions)

    def _check_update(self, indices: Any, losses: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Validated ``(indices, losses)`` of one step."""
        name = type(self).__name__
        idx = np.asarray(_to_numpy(indices))
        raw = np.asarray(_to_numpy(losses))
        if idx.size == 0 and idx.ndim == 1:
            idx = idx.astype(np.int64)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise DataTypeError(f"{name}.update: indices must be a 1-d array of integers; got {idx.dtype} of shape {idx.shape}")
        if raw.ndim != 1 or len(raw) != len(idx):
            got = "a scalar" if raw.ndim == 0 else f"shape {raw.shape}"
            raise DataError(f"{name}.update: losses must have one value per index ({len(idx)}); got {got} "
                            "(compute the loss with reduction='none')")
        if raw.dtype.kind not in "iuf":
            raise DataTypeError(f"{name}.update: losses must be numbers; got {raw.dtype}")
        loss = raw.astype(np.float64)
        if len(idx) and (idx.min() < 0 or idx.max() >= n):
            raise DataError(f"{name}.update: indices must be in [0, {n}); got {int(idx.min())}..{int(idx.max())}")
        if not np.isfinite(loss).all():
            raise DataError(f"{name}.update: losses must be finite; got {loss[~np.isfinite(loss)][:3].tolist()}")
        return idx.astype(np.int64), loss


def _to_numpy(x: Any) -> Any:
    """Torch tensors (on any device) and lists to numpy, without importing torch."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        return x.detach().cpu().numpy()
    return x


def check_n(n: Any, owner: str) -> int:
    """``n`` must be a positive integer."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise ParamError("n", "an integer >= 1", n, owner)
    if n < 1:
        raise ParamError("n", "an integer >= 1", n, owner)
    return int(n)
