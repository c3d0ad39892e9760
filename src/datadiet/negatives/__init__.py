"""negatives layer: hard-negative miners, false-negative guards, batch composers -> negatives records."""

from datadiet.negatives._miner import GUARDS, HardNegativeMiner, MinedBlock
from datadiet.negatives._strategies import STRATEGIES

__all__ = ["GUARDS", "STRATEGIES", "HardNegativeMiner", "MinedBlock"]
