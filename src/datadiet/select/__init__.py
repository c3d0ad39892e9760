"""Offline selectors: fit on signals, get a selection."""

from datadiet.select._density_ratio import DensityRatioSelector
from datadiet.select._dsir import DSIRSelector
from datadiet.select._base import BaseSelector, Picked, Target
from datadiet.select._random import RandomSelector
from datadiet.select._score_sample import ScoreProportionalSampler
from datadiet.select._scores import combine_scores
from datadiet.select._softcap import SoftCapSampler
from datadiet.select._threshold import ThresholdFilter
from datadiet.select._topk import TopKSelector

__all__ = [
    "BaseSelector",
    "DSIRSelector",
    "DensityRatioSelector",
    "Picked",
    "Target",
    "RandomSelector",
    "ScoreProportionalSampler",
    "SoftCapSampler",
    "ThresholdFilter",
    "TopKSelector",
    "combine_scores",
]
