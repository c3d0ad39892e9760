"""Group weights, temperature schedules, quotas and resampling."""

from datadiet._core._allocate import round_preserving_sum, temperature_proportions, water_fill
from datadiet.balance._equitable import EquitableAllocator, PowerLaw, fit_power_law
from datadiet.balance._mixture import MixtureLaw, capped_simplex
from datadiet.balance._smote import SAMPLERS, SMOTEResampler
from datadiet.balance._temperature import GroupBalanceSelector

__all__ = [
    "SAMPLERS",
    "EquitableAllocator",
    "GroupBalanceSelector",
    "MixtureLaw",
    "PowerLaw",
    "SMOTEResampler",
    "capped_simplex",
    "fit_power_law",
    "round_preserving_sum",
    "temperature_proportions",
    "water_fill",
]
