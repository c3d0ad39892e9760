"""Thin adapters: a datadiet sampler as a torch ``Sampler`` / ``BatchSampler``, and a Hugging Face callback.

torch and transformers are imported only when an adapter is built.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from datadiet._core import DataError, DataTypeError, MissingExtraError
from datadiet.train._base import BaseSampler

__all__ = ["torch_sampler", "torch_batch_sampler", "weighted_loss", "attach_to_trainer", "INDEX_COLUMN"]

#: column carrying each example's index through a Hugging Face ``Trainer`` batch
INDEX_COLUMN = "datadiet_index"


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise MissingExtraError("the torch adapters need torch: pip install 'datadiet[train]'") from None
    return torch


def _check(sampler: Any) -> BaseSampler:
    if not isinstance(sampler, BaseSampler):
        raise DataTypeError(f"expected a datadiet.train sampler (RS2Sampler, InfoBatchSampler, ...); "
                            f"got {type(sampler).__name__}")
    return sampler


@lru_cache(maxsize=1)
def _classes() -> tuple[type, type]:
    tud = _torch().utils.data

    class TorchSampler(tud.Sampler):  # type: ignore[misc,name-defined]
        """A datadiet sampler seen by torch: iteration, length, set_epoch and state pass through."""

        def __init__(self, sampler: BaseSampler) -> None:
            self.sampler = sampler

        def __iter__(self) -> Any:
            return iter(self.sampler)

        def __len__(self) -> int:
            return len(self.sampler)

        def set_epoch(self, epoch: int) -> None:
            self.sampler.set_epoch(epoch)

        def state_dict(self) -> dict[str, Any]:
            return self.sampler.state_dict()

        def load_state_dict(self, state: dict[str, Any]) -> None:
            self.sampler.load_state_dict(state)

    class TorchBatchSampler(tud.BatchSampler):  # type: ignore[misc,name-defined]
        """Batches of a datadiet sampler (``DataLoader(ds, batch_sampler=...)``)."""

        def __init__(self, sampler: BaseSampler, batch_size: int, drop_last: bool = False) -> None:
            super().__init__(TorchSampler(sampler), batch_size, drop_last)
            self.datadiet_sampler = sampler

        def set_epoch(self, epoch: int) -> None:
            self.datadiet_sampler.set_epoch(epoch)

        def state_dict(self) -> dict[str, Any]:
            return self.datadiet_sampler.state_dict()

        def load_state_dict(self, state: dict[str, Any]) -> None:
            self.datadiet_sampler.load_state_dict(state)

    return TorchSampler, TorchBatchSampler


def torch_sampler(sampler: BaseSampler) -> Any:
    """``sampler`` as a ``torch.utils.data.Sampler`` (``DataLoader(ds, sampler=..., batch_size=...)``).

    Examples
    --------
    >>> import torch
    >>> from datadiet.train import RS2Sampler
    >>> ds = torch.utils.data.TensorDataset(torch.arange(100))
    >>> dl = torch.utils.data.DataLoader(ds, sampler=torch_sampler(RS2Sampler(100, 0.2)), batch_size=8)
    >>> sum(len(b[0]) for b in dl)
    20
    """
    return _classes()[0](_check(sampler))


def torch_batch_sampler(sampler: BaseSampler, batch_size: int, drop_last: bool = False) -> Any:
    """``sampler`` as a ``torch.utils.data.BatchSampler`` (``DataLoader(ds, batch_sampler=...)``).

    Examples
    --------
    >>> import torch
    >>> from datadiet.train import InfoBatchSampler
    >>> s = InfoBatchSampler(100, 4, budget=0.8)
    >>> dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.arange(100)),
    ...                                  batch_sampler=torch_batch_sampler(s, 32))
    >>> len(dl), s.total_steps(32)
    (4, 13)
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise DataError(f"torch_batch_sampler: batch_size must be an integer >= 1; got {batch_size!r}")
    return _classes()[1](_check(sampler), int(batch_size), bool(drop_last))


def weighted_loss(sampler: BaseSampler, indices: Any, losses: Any) -> Any:
    """One training step's loss: feed per-example ``losses`` to a learning sampler, return their weighted mean.

    ``losses`` is the per-example loss tensor (``reduction='none'``); the result
    keeps its graph: ``weighted_loss(sampler, idx, F.cross_entropy(out, y, reduction='none')).backward()``.

    Examples
    --------
    >>> import torch
    >>> from datadiet.train import InfoBatchSampler
    >>> s = InfoBatchSampler(4, 2)
    >>> float(weighted_loss(s, torch.tensor([0, 1]), torch.tensor([1.0, 3.0])))
    2.0
    >>> s.scores_[:2].tolist()
    [1.0, 3.0]
    """
    torch = _torch()
    _check(sampler)
    if sampler.learns and getattr(sampler, "online", True) is not False:
        sampler.update(indices, losses.detach())  # type: ignore[attr-defined]
    w = torch.as_tensor(sampler.loss_weights(indices), dtype=losses.dtype, device=losses.device)
    return (losses * w).mean()


def attach_to_trainer(trainer: Any, sampler: BaseSampler, recorder: Any = None,
                      index_column: str = INDEX_COLUMN) -> Any:
    """Wire a sampler (and optionally a :class:`DynamicsRecorder`) into a Hugging Face ``Trainer``.

    The trainer then draws its training batches from ``sampler``; its callback
    sets the sampler's epoch at each epoch start. When each training example
    carries its index in ``index_column`` (e.g. ``ds.map(lambda r, i: {"datadiet_index": i},
    with_indices=True)``), the loss is computed per example from the model's
    ``logits`` and ``labels`` (cross-entropy), given to a learning sampler's
    ``update``, recorded by ``recorder`` and weighted by ``loss_weights``.
    Returns the callback (already added to the trainer).

    Trainer fixes the steps of every epoch from the first epoch's length: a
    shorter epoch (InfoBatch, a growing curriculum) just ends early, and its
    built-in schedulers assume full epochs; for a step-based schedule pass your
    own through ``Trainer(optimizers=(opt, sched))`` with
    ``sampler.total_steps(batch_size)`` steps.
    """
    try:
        from transformers import TrainerCallback
    except ImportError:
        raise MissingExtraError("the Trainer callback needs transformers and accelerate: pip install 'datadiet[hf]'") from None
    torch = _torch()
    _check(sampler)

    class DatadietCallback(TrainerCallback):  # type: ignore[misc]
        """Sets the sampler's epoch at each epoch start; flushes the recorder at each epoch end."""

        def __init__(self) -> None:
            self.sampler, self.recorder = sampler, recorder
            self.next_epoch = 0

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            # Trainer counts epochs from whole steps; a resumed run starts at the epoch it stopped in
            self.next_epoch = int(state.epoch or 0)

        def on_epoch_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            # count epochs here: with shorter epochs, Trainer's fractional state.epoch drifts from them
            self.sampler.set_epoch(self.next_epoch)
            self.next_epoch += 1

        def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self.recorder is not None:
                self.recorder.flush()

    cb = DatadietCallback()
    adapter = torch_sampler(sampler)
    trainer._get_train_sampler = lambda *a, **k: adapter
    if hasattr(trainer, "_set_signature_columns_if_needed"):
        trainer._set_signature_columns_if_needed()
        if index_column not in trainer._signature_columns:
            trainer._signature_columns.append(index_column)
    original = trainer.compute_loss

    def compute_loss(model: Any, inputs: dict[str, Any], return_outputs: bool = False, **kw: Any) -> Any:
        idx = inputs.pop(index_column, None)
        if idx is None or not model.training or "labels" not in inputs:
            return original(model, inputs, return_outputs=return_outputs, **kw)
        labels = inputs["labels"]
        outputs = model(**inputs)
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[1]
        per = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                                                labels.reshape(-1), reduction="none")
        if recorder is not None:
            recorder.record(sampler.epoch, idx, logits.detach(), labels)
        loss = weighted_loss(sampler, idx, per)
        return (loss, outputs) if return_outputs else loss

    trainer.compute_loss = compute_loss
    trainer.add_callback(cb)
    return cb
