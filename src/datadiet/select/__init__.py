"""Offline selectors: fit on signals, get a selection."""

from datadiet.select._auto import AutoSelector, auto_rule
from datadiet.select._base import BaseSelector, Picked, Target
from datadiet.select._cluster_balanced import ClusterBalancedSelector
from datadiet.select._density_ratio import DensityRatioSelector
from datadiet.select._diversify import DiversifySelector
from datadiet.select._dsir import DSIRSelector
from datadiet.select._facility import FacilityLocationSelector
from datadiet.select._herding import HerdingSelector
from datadiet.select._kcenter import KCenterSelector
from datadiet.select._prototypes import PrototypeSelector
from datadiet.select._random import RandomSelector
from datadiet.select._score_sample import ScoreProportionalSampler
from datadiet.select._scores import combine_scores
from datadiet.select._softcap import SoftCapSampler
from datadiet.select._threshold import ThresholdFilter
from datadiet.select._topk import TopKSelector

__all__ = [
    "AutoSelector",
    "BaseSelector",
    "DSIRSelector",
    "DensityRatioSelector",
    "ClusterBalancedSelector",
    "DiversifySelector",
    "FacilityLocationSelector",
    "HerdingSelector",
    "KCenterSelector",
    "PrototypeSelector",
    "auto_rule",
    "Picked",
    "Target",
    "RandomSelector",
    "ScoreProportionalSampler",
    "SoftCapSampler",
    "ThresholdFilter",
    "TopKSelector",
    "combine_scores",
]
