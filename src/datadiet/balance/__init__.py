"""Group weights, temperature schedules, quotas and resampling."""

from datadiet._core._allocate import round_preserving_sum, temperature_proportions, water_fill
from datadiet.balance._smote import SAMPLERS, SMOTEResampler
from datadiet.balance._temperature import GroupBalanceSelector

__all__ = [
    "SAMPLERS",
    "GroupBalanceSelector",
    "SMOTEResampler",
    "round_preserving_sum",
    "temperature_proportions",
    "water_fill",
]
