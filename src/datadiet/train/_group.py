"""Temperature sampling over groups with schedules (constant, linear, Cooldown) and online mixtures."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from datadiet._core import REQUIRED, DataError, Param, ParamError, register
from datadiet._core._allocate import round_preserving_sum, temperature_proportions
from datadiet.train._base import BaseSampler, _to_numpy

__all__ = ["GroupSampler"]


@register("train")
class GroupSampler(BaseSampler):
    """Sample groups (classes, domains, languages, clusters) by temperature, with a schedule.

    Group ``g`` of size ``n_g`` gets the share ``p_g ∝ n_g ** alpha`` (``alpha =
    1 / T``: 1 keeps the natural mix, 0 makes groups equal), or ``p_g ∝
    weights[g]``. The schedule moves ``alpha`` over the epochs:

    * ``constant``: ``alpha`` throughout;
    * ``linear``: from ``alpha`` at epoch 0 to ``alpha_end`` at the last epoch;
    * ``cooldown``: ``alpha`` (a high temperature) until the last
      ``cooldown_fraction`` of the epochs, then linearly down to ``alpha_end``
      (default 1: the natural mix), which keeps temperature sampling's fast start
      without its overfitting of small groups.

    Modes (the two sides of the upsampling-vs-upweighting comparison, plus one):

    * ``upsample``: each epoch has ``num_samples`` draws (default ``n``), exactly
      ``round(p_g * num_samples)`` from group ``g``; small groups repeat (repeat
      counts within a group differ by at most one).
    * ``upweight``: every example once per epoch, and ``weights(indices)`` gives
      the loss scale ``p_g / (n_g / n)`` (mean 1 over an epoch; ``weights`` is
      the parameter of explicit shares, so the method is ``loss_weights``).
    * ``downsample``: no repeats; the epoch is as large as the groups allow
      under the shares (capped by ``num_samples``).

    With ``online=True`` the shares move during training from the losses given
    to :meth:`update` by exponentiated-gradient steps (DoReMi / Aioli style):
    ``log w_g += learning_rate * (mean loss of g in the step - reference_losses[g])``,
    then ``p = (1 - smoothing) * softmax(log w) + smoothing / G``. Each step's
    shares are logged (:meth:`weight_history`). In ``upsample`` mode each draw
    picks its group from the current shares (keyed by seed, epoch and position)
    and a member of the group at random.

    Examples
    --------
    >>> groups = np.array(["a"] * 90 + ["b"] * 10)
    >>> s = GroupSampler(groups, alpha=0.0, seed=0)
    >>> counts = np.bincount((groups[list(s)] == "b").astype(int))
    >>> counts.tolist()
    [50, 50]
    >>> w = GroupSampler(groups, alpha=0.0, mode="upweight").loss_weights(np.array([0, 99]))
    >>> w.round(2).tolist()
    [0.56, 5.0]
    """

    method = "group"
    summary = "temperature sampling over groups with constant / linear / Cooldown schedules, or online weights"
    learns = True
    params = (
        Param("groups", "object", REQUIRED, "group of each example (array of n labels)", positional=True, cli=False),
        Param("alpha", "float", 1.0, "temperature exponent: p_g ∝ n_g ** alpha (alpha = 1 / T)", low=0),
        Param("weights", "mapping", None, "explicit share of each group (instead of alpha)", none=True, cli=False),
        Param("schedule", "choice", "constant", "how alpha moves over the epochs",
              choices=("constant", "linear", "cooldown")),
        Param("alpha_end", "float", 1.0, "alpha at the last epoch (linear, cooldown)", low=0),
        Param("cooldown_fraction", "float", 0.2, "share of the epochs over which cooldown lowers the temperature",
              low=0, high=1, low_open=True),
        Param("num_epochs", "int", None, "number of epochs (needed by linear and cooldown)", low=1, none=True),
        Param("mode", "choice", "upsample", "repeat examples, rescale their loss, or drop examples",
              choices=("upsample", "upweight", "downsample")),
        Param("num_samples", "int", None, "draws per epoch (upsample; cap for downsample); default n",
              low=1, none=True),
        Param("online", "bool", False, "move the shares from per-group losses given to update()"),
        Param("learning_rate", "float", 1.0, "step size of the online exponentiated-gradient update", low=0),
        Param("smoothing", "float", 0.1, "online: mix of the uniform distribution in the shares", low=0, high=1),
        Param("reference_losses", "mapping", None, "online: loss of a reference model per group (excess loss)",
              none=True, cli=False),
    )

    # --- setup ----------------------------------------------------------------
    def _check_params(self) -> None:
        super()._check_params()
        owner = "GroupSampler"
        if self.schedule != "constant" and self.num_epochs is None:
            raise ParamError("num_epochs", f"an integer >= 1 with schedule={self.schedule!r}", None, owner)
        if self.weights is not None and self.schedule != "constant":
            raise ParamError("schedule", "'constant' when explicit weights are given (schedules move alpha)",
                             self.schedule, owner)
        if self.online and self.mode == "downsample":
            raise ParamError("mode", "'upsample' or 'upweight' with online=True", self.mode, owner)

    def _setup(self) -> None:
        g = np.asarray(_to_numpy(self.groups))
        if g.ndim != 1 or len(g) == 0:
            raise DataError(f"GroupSampler: groups must be a non-empty 1-d array (one group per example); "
                            f"got shape {g.shape}")
        names, codes = np.unique(g, return_inverse=True)
        self.names_ = [str(x) for x in names.tolist()]
        self.n = len(g)
        self._codes = codes.astype(np.int64)
        self.sizes_ = np.bincount(self._codes, minlength=len(names))
        self._members = np.split(np.argsort(self._codes, kind="stable"), np.cumsum(self.sizes_)[:-1])
        self._base_w = None if self.weights is None else self._by_name(self.weights, "weights")
        if self._base_w is not None and self._base_w.sum() <= 0:
            raise ParamError("weights", "a mapping with at least one positive share", dict(self.weights),
                             "GroupSampler")
        self._ref = np.zeros(len(names)) if self.reference_losses is None else self._by_name(
            self.reference_losses, "reference_losses", fill=0.0)
        self._logw = np.log(np.maximum(self._static_shares(0), 1e-300))
        self.history_: list[np.ndarray] = [self.shares()]
        self.steps_ = 0
        self._drawn = -1

    def _by_name(self, mapping: Mapping[str, Any], what: str, fill: float | None = None) -> np.ndarray:
        unknown = [k for k in mapping if str(k) not in self.names_]
        if unknown:
            raise DataError(f"GroupSampler: {what} names unknown group(s) {unknown[:5]}; the groups are "
                            f"{self.names_[:20]}")
        pos = {k: i for i, k in enumerate(self.names_)}
        out = np.full(len(self.names_), 0.0 if fill is None else fill)
        for k, v in mapping.items():
            out[pos[str(k)]] = float(v)
        return out

    # --- shares ---------------------------------------------------------------
    def alpha_at(self, epoch: int) -> float:
        """The temperature exponent of ``epoch`` under the schedule."""
        a, b = float(self.alpha), float(self.alpha_end)
        if self.schedule == "constant":
            return a
        e_total = int(self.num_epochs)
        if self.schedule == "linear":
            return a if e_total == 1 else a + (b - a) * epoch / (e_total - 1)
        cool = max(1, int(round(self.cooldown_fraction * e_total)))
        first = e_total - cool
        return a if epoch < first else a + (b - a) * (epoch - first + 1) / cool

    def _static_shares(self, epoch: int) -> np.ndarray:
        if self._base_w is not None:
            return self._base_w / self._base_w.sum()
        return temperature_proportions(self.sizes_, self.alpha_at(epoch))

    def shares(self, epoch: int | None = None) -> np.ndarray:
        """Share of each group (in the order of ``names_``) for ``epoch`` (default: now)."""
        if self.online:
            w = np.exp(self._logw - self._logw.max())
            w = w / w.sum()
            return (1 - self.smoothing) * w + self.smoothing / len(w)
        return self._static_shares(self._epoch if epoch is None else epoch)

    def weight_history(self) -> np.ndarray:
        """Shares after each online step, shape ``(steps + 1, groups)`` (row 0: the start)."""
        return np.vstack(self.history_)

    def wants_losses(self) -> bool:
        return bool(self.online)

    def update(self, indices: Any, losses: Any) -> None:
        """Online mode: one exponentiated-gradient step from the per-group mean losses of a step."""
        if not self.online:
            raise DataError("GroupSampler.update: the shares are static; build it with online=True to learn them")
        idx, loss = self._check_update(indices, losses, self.n)
        if not len(idx):
            return
        g = self._codes[idx]
        cnt = np.bincount(g, minlength=len(self.names_))
        mean = np.bincount(g, weights=loss, minlength=len(self.names_)) / np.maximum(cnt, 1)
        step = np.where(cnt > 0, mean - self._ref, 0.0)
        self._logw = self._logw + self.learning_rate * step
        self.steps_ += 1
        self.history_.append(self.shares())

    def loss_weights(self, indices: Any) -> np.ndarray:
        """Loss scale of each index: ``p_g / (n_g / n)`` in upweight mode, 1 otherwise."""
        idx = np.asarray(_to_numpy(indices), dtype=np.int64)
        if self.mode != "upweight":
            return np.ones(len(idx))
        natural = self.sizes_ / self.n
        return (self.shares() / natural)[self._codes[idx]]

    # --- plan -----------------------------------------------------------------
    def _check_epoch(self, epoch: int) -> None:
        if self.num_epochs is not None and epoch >= self.num_epochs:
            raise DataError(f"GroupSampler: epoch {epoch} is beyond num_epochs={self.num_epochs} "
                            "(epochs count from 0)")

    def _perm(self, g: int, epoch: int) -> np.ndarray:
        m = self._members[g]
        return m[np.argsort(self._keys(f"group-member-{g}", epoch, m), kind="stable")]

    def _plan(self, epoch: int) -> np.ndarray:
        if self.mode == "upweight":
            return np.argsort(self._keys("group-order", epoch, np.arange(self.n)), kind="stable")
        if self.online:  # upsample online: drawn lazily, see _draw
            return self._draw(epoch, np.arange(self.num_samples or self.n))
        p = self.shares(epoch)
        if self.mode == "upsample":
            counts = round_preserving_sum(p * (self.num_samples or self.n))
        else:
            ok = p > 0
            total = float(np.min(self.sizes_[ok] / p[ok]))
            if self.num_samples is not None:
                total = min(total, float(self.num_samples))
            counts = round_preserving_sum(p * total, upper=self.sizes_)
        parts = []
        for g, c in enumerate(counts):
            if c:
                perm = self._perm(g, epoch)
                parts.append(perm[np.arange(c) % len(perm)])
        out = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        return out[np.argsort(self._pos_keys("group-order", epoch, np.arange(len(out))), kind="stable")]

    def _draw(self, epoch: int, positions: np.ndarray) -> np.ndarray:
        """Online upsampling: the group of each position from the current shares, then a random member."""
        cdf = np.cumsum(self.shares())
        ug = self._pos_keys("group-draw", epoch, positions)
        g = np.minimum(np.searchsorted(cdf / cdf[-1], ug, side="right"), len(cdf) - 1)
        um = self._pos_keys("group-pick", epoch, positions)
        pick = np.floor(um * self.sizes_[g]).astype(np.int64)
        starts = np.concatenate([[0], np.cumsum(self.sizes_)[:-1]])
        flat = np.concatenate(self._members)
        return flat[starts[g] + pick]

    def __len__(self) -> int:
        if self.online and self.mode == "upsample":
            total = self.num_samples or self.n
            return total // self.num_replicas
        return super().__len__()

    def __iter__(self) -> Iterator[int]:
        if not (self.online and self.mode == "upsample"):
            yield from super().__iter__()
            return
        length = len(self)
        if self._pos >= length > 0 and self._drawn == self._epoch:
            self._check_epoch(self._epoch + 1)
            self._epoch, self._pos = self._epoch + 1, 0
        self._check_epoch(self._epoch)
        self._drawn = self._epoch
        while self._pos < length:
            t = self.rank + self.num_replicas * self._pos
            i = int(self._draw(self._epoch, np.array([t]))[0])
            self._pos += 1
            yield i

    # --- state ----------------------------------------------------------------
    def _extra_state(self) -> dict[str, Any]:
        return {"log_weights": self._logw.copy(), "history": self.weight_history().copy(), "steps": self.steps_}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        lw = np.asarray(state.get("log_weights", self._logw), dtype=np.float64)
        if lw.shape != self._logw.shape:
            raise DataError(f"GroupSampler.load_state_dict: the state has {lw.shape[0]} groups, "
                            f"this sampler has {len(self.names_)}")
        self._logw = lw.copy()
        self.history_ = list(np.asarray(state.get("history", self.weight_history())))
        self.steps_ = int(state.get("steps", 0))
