"""negatives layer: hard-negative miners, false-negative guards, batch composers -> negatives records.

Nothing here imports torch: the composers are plain iterables of index lists that
a ``torch.utils.data.DataLoader`` accepts as ``batch_sampler``.
"""

from datadiet.negatives._batching import BatchComposer
from datadiet.negatives._miner import GUARDS, HardNegativeMiner, MinedBlock, score_summary
from datadiet.negatives._ngame import NGAMEComposer
from datadiet.negatives._nodup import NoDuplicatesComposer
from datadiet.negatives._records import FORMATS, records_table
from datadiet.negatives._strategies import STRATEGIES
from datadiet.negatives._tasb import TASBComposer

__all__ = ["FORMATS", "GUARDS", "STRATEGIES", "BatchComposer", "HardNegativeMiner", "MinedBlock",
           "NGAMEComposer", "NoDuplicatesComposer", "TASBComposer", "records_table", "score_summary"]
