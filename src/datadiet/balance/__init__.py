"""Group weights, temperature schedules, quotas and resampling."""

from datadiet._core._allocate import round_preserving_sum, temperature_proportions, water_fill
from datadiet.balance._equitable import EquitableAllocator, PowerLaw, fit_power_law
from datadiet.balance._smote import SAMPLERS, SMOTEResampler
from datadiet.balance._temperature import GroupBalanceSelector

__all__ = [
    "SAMPLERS",
    "EquitableAllocator",
    "GroupBalanceSelector",
    "PowerLaw",
    "SMOTEResampler",
    "fit_power_law",
    "round_preserving_sum",
    "temperature_proportions",
    "water_fill",
]
