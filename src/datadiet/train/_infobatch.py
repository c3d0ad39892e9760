"""InfoBatch: each epoch, randomly prune part of the well-learned examples and rescale the rest."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from datadiet._core import REQUIRED, DataError, Param, ParamError, register
from datadiet._core._allocate import round_preserving_sum
from datadiet.train._base import BaseSampler, _to_numpy

__all__ = ["InfoBatchSampler"]


@register("train")
class InfoBatchSampler(BaseSampler):
    """InfoBatch: prune low-loss examples at random each epoch, rescale the loss of the kept ones.

    Call :meth:`update` after each step with the per-example losses of the batch
    (``reduction='none'``). At the start of epoch ``e`` (``1 <= e < delta *
    num_epochs``) the examples whose last loss is below the mean loss are
    "well learned"; ``prune_ratio`` of them (exactly ``round(prune_ratio * count)``,
    chosen by ``(seed, epoch, index)`` keys) are skipped this epoch and the kept
    ones get the loss scale ``weights(indices) = W / K`` (W well-learned, K of
    them kept: ``1 / (1 - prune_ratio)`` up to rounding), so the expected
    weighted loss equals the full loss. Examples at or above the mean are never
    pruned, and get weight 1. Epoch 0 (no losses yet) and the last epochs
    (``e >= delta * num_epochs``, annealing) see every example.

    Because only well-learned examples are pruned, the share of forward passes
    saved is smaller than ``prune_ratio``; :meth:`saved_fraction` reports the
    real one. With ``budget`` (total forward passes over all epochs, or a
    fraction of ``n * num_epochs``) the sampler prunes a planned number each
    pruning epoch so the total is met exactly; if the well-learned examples do
    not suffice, the lowest-loss others are pruned next (without rescaling).
    In that mode every epoch's length is known in advance (:meth:`epoch_lengths`,
    :meth:`total_steps`), so step-based learning-rate schedules work; without a
    budget the length of each epoch is known only when it starts.

    With ``labels`` and ``class_floor``, no class keeps fewer than
    ``ceil(class_floor * size)`` of its examples in any epoch, and the rescale
    is computed per class.

    In distributed training, gather the indices and losses of all replicas before
    calling :meth:`update` so every replica plans the same epoch.

    Examples
    --------
    >>> s = InfoBatchSampler(8, 4, prune_ratio=0.5, seed=0)
    >>> s.update(np.arange(8), np.array([0.1, 0.2, 0.1, 0.3, 2.0, 2.5, 3.0, 0.2]))
    >>> s.set_epoch(1)
    >>> len(s), sorted(set(range(4, 7)) - set(s))   # 2 of the 5 low-loss ones are skipped
    (6, [])
    >>> sorted(set(s.weights(np.arange(8)).round(3).tolist()))
    [0.0, 1.0, 1.667]
    """

    method = "infobatch"
    summary = "InfoBatch: prune low-loss examples at random each epoch and rescale the kept ones"
    learns = True
    params = (
        Param("n", "int", REQUIRED, "number of training examples", low=1, positional=True, cli=False),
        Param("num_epochs", "int", REQUIRED, "number of training epochs", low=1, positional=True),
        Param("prune_ratio", "float", 0.5, "share of the well-learned examples skipped per epoch",
              low=0, high=1, high_open=True),
        Param("delta", "float", 0.875, "prune while epoch < delta * num_epochs (then anneal on full data)",
              low=0, high=1),
        Param("budget", "float", None, "total forward passes (> 1) or a share of n * num_epochs (<= 1); "
              "exact, with epoch lengths announced in advance", low=0, low_open=True, none=True),
        Param("labels", "object", None, "class of each example, for class_floor", none=True, cli=False),
        Param("class_floor", "float", None, "least share of each class kept in every epoch",
              low=0, high=1, none=True),
    )

    def _check_params(self) -> None:
        super()._check_params()
        if self.class_floor is not None and self.labels is None:
            raise ParamError("labels", "an array of n classes when class_floor is given", None, "InfoBatchSampler")
        b = self.budget
        if b is not None and b > 1 and float(b) != int(b):
            raise ParamError("budget", "a whole number of forward passes (> 1) or a share in (0, 1]", b,
                             "InfoBatchSampler")

    def _setup(self) -> None:
        n, e = self.n, self.num_epochs
        self.stop_epoch_ = max(1, math.ceil(e * self.delta - 1e-9))
        self.scores_ = np.full(n, np.nan)
        self._weights = np.ones(n)
        self._weights_epoch = -1
        self.passes_: dict[int, int] = {}
        if self.labels is not None:
            lab = np.asarray(_to_numpy(self.labels))
            if lab.ndim != 1 or len(lab) != n:
                raise DataError(f"InfoBatchSampler: labels must have one value per example ({n}); "
                                f"got shape {lab.shape}")
            _, self._strata = np.unique(lab, return_inverse=True)
        else:
            self._strata = np.zeros(n, dtype=np.int64)
        self._plan_budget()

    # --- budget ------------------------------------------------------------
    def _pruning_epochs(self) -> list[int]:
        return list(range(1, min(self.stop_epoch_, self.num_epochs)))

    def _plan_budget(self) -> None:
        self._prune_counts: dict[int, int] = {}
        if self.budget is None:
            return
        n, e = self.n, self.num_epochs
        total = int(round(self.budget * n * e)) if self.budget <= 1 else int(self.budget)
        prune = n * e - total
        ep = self._pruning_epochs()
        floor_keep = 1 if self.class_floor is None else int(
            sum(math.ceil(self.class_floor * c) for c in np.bincount(self._strata)))
        most = (n - max(floor_keep, 1)) * len(ep)
        if prune < 0 or prune > most:
            raise ParamError("budget", f"between {n * e - most} and {n * e} forward passes with n={n}, "
                             f"num_epochs={e}, delta={self.delta} (epoch 0 and epochs >= {self.stop_epoch_} "
                             "see all the data)", self.budget, "InfoBatchSampler")
        counts: Any = round_preserving_sum(np.full(len(ep), prune / max(len(ep), 1))) if ep else []
        self._prune_counts = {int(k): int(c) for k, c in zip(ep, counts)}
        self.budget_passes_ = total

    def epoch_lengths(self) -> np.ndarray:
        """Forward passes (all replicas) of every epoch, known in advance (``budget`` mode only)."""
        if self.budget is None:
            raise DataError("InfoBatchSampler: epoch lengths are known in advance only with a budget; "
                            "pass budget=... (e.g. 0.7) or use an epoch-based schedule")
        out = np.full(self.num_epochs, self.n, dtype=np.int64)
        for k, c in self._prune_counts.items():
            out[k] -= c
        return out - out % self.num_replicas

    def total_steps(self, batch_size: int, drop_last: bool = False) -> int:
        """Optimizer steps of the whole run on one replica, for a step-based LR schedule."""
        per = self.epoch_lengths() // self.num_replicas
        return int((per // batch_size).sum() if drop_last else (-(-per // batch_size)).sum())

    # --- learning ------------------------------------------------------------
    def update(self, indices: Any, losses: Any) -> None:
        """Record the per-example losses of one step (latest loss wins)."""
        idx, loss = self._check_update(indices, losses, self.n)
        self.scores_[idx] = loss

    def weights(self, indices: Any) -> np.ndarray:
        """Loss scale of each index in the current epoch (0 for an index pruned this epoch)."""
        self.epoch_indices()
        idx = np.asarray(_to_numpy(indices), dtype=np.int64)
        return self._weights[idx]

    def loss_weights(self, indices: Any) -> np.ndarray:
        """Same as :meth:`weights` (the name every sampler shares)."""
        return self.weights(indices)

    def saved_fraction(self) -> float:
        """Real share of forward passes saved over the epochs planned so far (vs full training)."""
        if not self.passes_:
            return 0.0
        return 1.0 - sum(self.passes_.values()) / (self.n * len(self.passes_))

    # --- plan ---------------------------------------------------------------
    def _check_epoch(self, epoch: int) -> None:
        if epoch >= self.num_epochs:
            raise DataError(f"InfoBatchSampler: epoch {epoch} is beyond num_epochs={self.num_epochs} "
                            "(epochs count from 0); build the sampler with the real number of epochs")

    def _plan(self, epoch: int) -> np.ndarray:
        n = self.n
        w = np.ones(n)
        keep = np.ones(n, dtype=bool)
        s = self.scores_
        seen = ~np.isnan(s)
        if 1 <= epoch < self.stop_epoch_ and seen.any():
            key = self._keys("infobatch-prune", epoch, np.arange(n))
            mean = s[seen].mean()
            low = seen & (s < mean)
            if self.budget is not None:
                k = self._prune_counts.get(epoch, 0)
                rest = np.where(low, -1.0, np.where(seen, s, np.inf))   # low first (by key), then by loss
                cand = np.lexsort((key, rest))
            else:
                cand = np.flatnonzero(low)
                cand = cand[np.argsort(key[cand], kind="stable")]
                k = int(round(self.prune_ratio * len(cand)))
            cand = self._respect_floor(cand)
            pruned = cand[:k]
            keep[pruned] = False
            # rescale the kept well-learned examples of each stratum by (well-learned / kept)
            lw = np.bincount(self._strata[low], minlength=self._strata.max() + 1)
            lk = np.bincount(self._strata[low & keep], minlength=len(lw))
            ratio = np.where(lk > 0, lw / np.maximum(lk, 1), 1.0)
            w = np.where(low & keep, ratio[self._strata], 1.0)
            w[~keep] = 0.0
        self._weights, self._weights_epoch = w, epoch
        kept = np.flatnonzero(keep)
        order = kept[np.argsort(self._keys("infobatch-order", epoch, kept), kind="stable")]
        self.passes_[epoch] = len(order) - len(order) % self.num_replicas
        return order

    def _respect_floor(self, cand: np.ndarray) -> np.ndarray:
        """Candidates that can be pruned without taking a class below its floor (order kept)."""
        if self.class_floor is None or not len(cand):
            return cand
        sizes = np.bincount(self._strata)
        can = sizes - np.ceil(self.class_floor * sizes).astype(np.int64)
        st = self._strata[cand]
        order = np.argsort(st, kind="stable")
        st_sorted = st[order]
        starts = np.searchsorted(st_sorted, st_sorted, side="left")
        rank = np.empty(len(cand), dtype=np.int64)
        rank[order] = np.arange(len(cand)) - starts
        return cand[rank < can[st]]

    # --- state --------------------------------------------------------------
    def _extra_state(self) -> dict[str, Any]:
        return {"scores": self.scores_.copy(), "passes": dict(self.passes_),
                "weights": self._weights.copy(), "weights_epoch": self._weights_epoch}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        scores = np.asarray(state.get("scores", self.scores_), dtype=np.float64)
        if scores.shape != (self.n,):
            raise DataError(f"InfoBatchSampler.load_state_dict: the state has {scores.shape[0]} scores, "
                            f"this sampler has n={self.n}")
        self.scores_ = scores.copy()
        self.passes_ = {int(k): int(v) for k, v in state.get("passes", {}).items()}
        self._weights = np.asarray(state.get("weights", np.ones(self.n)), dtype=np.float64).copy()
        self._weights_epoch = int(state.get("weights_epoch", -1))
