"""datadiet: decide which examples a model trains on, how often, and against which negatives.

Examples
--------
>>> import datadiet as dd
>>> sel = dd.RandomSelector(budget="50%", seed=0).fit(ids=["a", "b", "c", "d"]).selection_
>>> sel.counts()
{'kept': 2, 'not_sampled': 2}
"""

from datadiet._core._version import __version__
from datadiet.balance import GroupBalanceSelector
from datadiet.engine import load_signals
from datadiet.io import Budget, Selection, apply_selection, open_source
from datadiet.select import (
    RandomSelector,
    ScoreProportionalSampler,
    SoftCapSampler,
    ThresholdFilter,
    TopKSelector,
)
from datadiet.signals import Columns, Signals
from datadiet.value import KNNShapley, KNNShapleySelector

__all__ = [
    "Budget",
    "Columns",
    "GroupBalanceSelector",
    "KNNShapley",
    "KNNShapleySelector",
    "RandomSelector",
    "ScoreProportionalSampler",
    "Selection",
    "Signals",
    "SoftCapSampler",
    "ThresholdFilter",
    "TopKSelector",
    "__version__",
    "apply_selection",
    "load_signals",
    "open_source",
]
