"""Curricula: easy-to-hard by a score with pacing functions, and a loss-window (SeTa-style) schedule."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from datadiet._core import REQUIRED, DataError, Param, ParamError, register
from datadiet.train._base import BaseSampler, _to_numpy

__all__ = ["CurriculumSampler", "LossWindowSampler", "pacing_fraction"]

PACINGS = ("linear", "quadratic", "root", "exponential", "logarithmic", "step")


def pacing_fraction(pacing: str, t: float, start: float, num_steps: int = 4) -> float:
    """Share of the data available at progress ``t`` in [0, 1] (``start`` at 0, 1 at ``t >= 1``).

    Examples
    --------
    >>> [round(pacing_fraction("linear", t, 0.2), 2) for t in (0, 0.5, 1)]
    [0.2, 0.6, 1.0]
    >>> pacing_fraction("step", 0.3, 0.2, num_steps=4)
    0.4
    """
    t = min(max(float(t), 0.0), 1.0)
    if pacing == "linear":
        g = t
    elif pacing == "quadratic":
        g = t * t
    elif pacing == "root":
        g = math.sqrt(t)
    elif pacing == "exponential":
        g = (math.exp(5 * t) - 1) / (math.exp(5) - 1)
    elif pacing == "logarithmic":
        g = math.log1p(20 * t) / math.log1p(20)
    elif pacing == "step":
        g = math.floor(t * num_steps + 1e-9) / num_steps
    else:
        raise ParamError("pacing", "one of " + ", ".join(map(repr, PACINGS)), pacing)
    return start + (1 - start) * g


@register("train")
class CurriculumSampler(BaseSampler):
    """Easy to hard by any score: epoch ``e`` trains on the easiest share given by a pacing function.

    Lower scores are easier (``descending=True`` flips that, e.g. for
    confidence). The share of the data grows from ``start`` at epoch 0 to 1 at
    ``full_at`` of the training (``pacing``: linear, quadratic, root,
    exponential, logarithmic or step, as in Wu et al., "When do curricula
    work?"). The available examples are shuffled by ``(seed, epoch, index)``;
    with ``epoch_size`` every epoch has that many draws (cycling through the
    available ones), so steps per epoch stay fixed.

    Examples
    --------
    >>> scores = np.arange(10.0)                  # 0 is the easiest
    >>> s = CurriculumSampler(scores, num_epochs=5, start=0.2, full_at=1.0)
    >>> sorted(s)
    [0, 1]
    >>> s.set_epoch(4)
    >>> len(s)
    10
    """

    method = "curriculum"
    summary = "easy-to-hard curriculum by a score, with standard pacing functions"
    params = (
        Param("scores", "object", REQUIRED, "difficulty of each example (lower is easier)", positional=True,
              cli=False),
        Param("num_epochs", "int", REQUIRED, "number of epochs", low=1),
        Param("pacing", "choice", "linear", "how the available share grows", choices=PACINGS),
        Param("start", "float", 0.2, "share available at epoch 0", low=0, high=1, low_open=True),
        Param("full_at", "float", 0.8, "share of the training after which all data is available",
              low=0, high=1, low_open=True),
        Param("num_steps", "int", 4, "number of steps of the 'step' pacing", low=1),
        Param("descending", "bool", False, "higher scores are easier"),
        Param("epoch_size", "int", None, "draws per epoch (default: the available examples)", low=1, none=True),
    )

    def _setup(self) -> None:
        s = np.asarray(_to_numpy(self.scores), dtype=np.float64)
        if s.ndim != 1 or len(s) == 0 or not np.isfinite(s).all():
            raise DataError(f"CurriculumSampler: scores must be a non-empty 1-d array of finite numbers; "
                            f"got shape {s.shape}")
        self.n = len(s)
        key = self._keys("curriculum-tie", 0, np.arange(self.n))
        self._order = np.lexsort((key, -s if self.descending else s))

    def fraction_at(self, epoch: int) -> float:
        """Share of the data available at ``epoch``."""
        t = 0.0 if self.num_epochs == 1 else epoch / ((self.num_epochs - 1) * self.full_at)
        return pacing_fraction(self.pacing, t, self.start, self.num_steps)

    def _check_epoch(self, epoch: int) -> None:
        if epoch >= self.num_epochs:
            raise DataError(f"CurriculumSampler: epoch {epoch} is beyond num_epochs={self.num_epochs} "
                            "(epochs count from 0)")

    def _plan(self, epoch: int) -> np.ndarray:
        k = max(self.num_replicas, int(math.ceil(self.fraction_at(epoch) * self.n - 1e-9)))
        pool = self._order[: min(k, self.n)]
        out = pool[np.argsort(self._keys("curriculum-order", epoch, pool), kind="stable")]
        if self.epoch_size is not None:
            out = out[np.arange(self.epoch_size) % len(out)]
        return out


@register("train")
class LossWindowSampler(BaseSampler):
    """SeTa-style loss window: group examples by their last loss, slide a window from easy to hard.

    Call :meth:`update` with per-example losses after each step. At the start
    of each epoch ``1 <= e < delta * num_epochs``: first ``prune_ratio`` of the
    examples are dropped at random; the rest are sorted by their last loss and
    cut into ``num_groups`` equal groups (easiest first); the epoch trains on
    ``window`` consecutive groups, the window moving one group harder each epoch
    and starting again from the easiest after the hardest. Epoch 0 (no losses
    yet) and the last epochs (annealing) see all the data.

    Examples
    --------
    >>> s = LossWindowSampler(10, 4, num_groups=5, window=2, seed=0)
    >>> s.update(np.arange(10), np.arange(10.0))
    >>> s.set_epoch(1)
    >>> sorted(s)
    [0, 1, 2, 3]
    """

    method = "loss-window"
    summary = "SeTa-style curriculum: loss groups, a window sliding from easy to hard"
    learns = True
    params = (
        Param("n", "int", REQUIRED, "number of training examples", low=1, positional=True, cli=False),
        Param("num_epochs", "int", REQUIRED, "number of epochs", low=1, positional=True),
        Param("num_groups", "int", 5, "loss groups", low=1),
        Param("window", "int", 3, "consecutive groups trained on per epoch", low=1),
        Param("prune_ratio", "float", 0.0, "share dropped at random before grouping", low=0, high=1,
              high_open=True),
        Param("delta", "float", 0.9, "window while epoch < delta * num_epochs (then anneal on full data)",
              low=0, high=1),
    )

    def _check_params(self) -> None:
        super()._check_params()
        if self.window > self.num_groups:
            raise ParamError("window", f"an integer <= num_groups ({self.num_groups})", self.window,
                             "LossWindowSampler")

    def _setup(self) -> None:
        self.scores_ = np.full(self.n, np.nan)
        self.stop_epoch_ = max(1, math.ceil(self.num_epochs * self.delta - 1e-9))

    def update(self, indices: Any, losses: Any) -> None:
        """Record the per-example losses of one step."""
        idx, loss = self._check_update(indices, losses, self.n)
        self.scores_[idx] = loss

    def _check_epoch(self, epoch: int) -> None:
        if epoch >= self.num_epochs:
            raise DataError(f"LossWindowSampler: epoch {epoch} is beyond num_epochs={self.num_epochs} "
                            "(epochs count from 0)")

    def _plan(self, epoch: int) -> np.ndarray:
        ids = np.arange(self.n)
        pool = ids
        s = self.scores_
        if 1 <= epoch < self.stop_epoch_ and not np.isnan(s).all():
            if self.prune_ratio > 0:
                drop = self._keys("window-prune", epoch, ids) < self.prune_ratio
                pool = ids[~drop]
            filled = np.where(np.isnan(s[pool]), np.inf, s[pool])
            ranked = pool[np.lexsort((self._keys("window-tie", epoch, pool), filled))]
            bounds = np.linspace(0, len(ranked), self.num_groups + 1).round().astype(np.int64)
            first = (epoch - 1) % (self.num_groups - self.window + 1)
            pool = ranked[bounds[first] : bounds[first + self.window]]
        return pool[np.argsort(self._keys("window-order", epoch, pool), kind="stable")]

    def _extra_state(self) -> dict[str, Any]:
        return {"scores": self.scores_.copy()}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        s = np.asarray(state.get("scores", self.scores_), dtype=np.float64)
        if s.shape != (self.n,):
            raise DataError(f"LossWindowSampler.load_state_dict: the state has {s.shape[0]} scores, n={self.n}")
        self.scores_ = s.copy()
