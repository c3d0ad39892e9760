"""train layer: what the model sees this epoch, this step.

Samplers (numpy; importable without torch) with ``set_epoch``, ``state_dict`` /
``load_state_dict``, ``num_replicas`` / ``rank``, and ``update(indices, losses)``
when they learn; torch and Hugging Face adapters; a training-dynamics recorder.
"""

from datadiet.train._base import BaseSampler
from datadiet.train._curriculum import CurriculumSampler, LossWindowSampler, pacing_fraction
from datadiet.train._dynamics import (
    DynamicsRecorder,
    assign_threshold_examples,
    aum_cutoff,
    plot_data_map,
)
from datadiet.train._group import GroupSampler
from datadiet.train._infobatch import InfoBatchSampler
from datadiet.train._rs2 import RS2Sampler
from datadiet.train._torch import (
    INDEX_COLUMN,
    attach_to_trainer,
    torch_batch_sampler,
    torch_sampler,
    weighted_loss,
)

__all__ = [
    "INDEX_COLUMN",
    "BaseSampler",
    "CurriculumSampler",
    "DynamicsRecorder",
    "GroupSampler",
    "InfoBatchSampler",
    "LossWindowSampler",
    "RS2Sampler",
    "assign_threshold_examples",
    "attach_to_trainer",
    "aum_cutoff",
    "plot_data_map",
    "torch_batch_sampler",
    "torch_sampler",
    "weighted_loss",
    "pacing_fraction",
]
