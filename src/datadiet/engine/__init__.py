"""Execution: steps run by the local engine (in-process, streaming) or the ray engine (Ray Data)."""

from datadiet._core._progress import progress, set_progress
from datadiet.engine._assign_step import AssignStep, assign_on_engine
from datadiet.engine._dedup_spill import DedupSpillStep, dedup_streamed
from datadiet.engine._dsir import dsir_select
from datadiet.engine._dsir_stages import DSIRWeightStep, NgramCountStep, SubsetCountStep
from datadiet.engine._embed_step import EmbedStep, embed_on_engine
from datadiet.engine._engines import get_engine
from datadiet.engine._exact_step import ExactKeyStep, exact_groups
from datadiet.engine._local import LocalEngine
from datadiet.engine._minhash_step import MinHashStep, minhash_on_engine
from datadiet.engine._ray import RayEngine
from datadiet.engine._scan import SignalStep, load_signals
from datadiet.engine._step import Step

__all__ = ["LocalEngine", "RayEngine", "SignalStep", "Step", "get_engine", "dsir_select", "load_signals", "progress",
           "set_progress", "NgramCountStep", "DSIRWeightStep", "SubsetCountStep", "MinHashStep", "minhash_on_engine",
           "ExactKeyStep", "exact_groups", "EmbedStep", "embed_on_engine", "AssignStep", "assign_on_engine",
           "DedupSpillStep", "dedup_streamed"]
