"""A step: one per-batch computation, written once and run by either engine."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from datadiet.io._read import Batch

__all__ = ["Step"]


class Step:
    """Per-batch work that knows nothing of the engine running it.

    Subclasses set ``columns`` (the input columns to read), may override
    ``setup`` (called once per worker before the first batch: load a model,
    build an index) and implement ``process_batch``, which returns one output
    row per input row. The engine adds nothing and keeps input order.

    Examples
    --------
    >>> import pyarrow as pa
    >>> class Lengths(Step):
    ...     columns = ["text"]
    ...     def process_batch(self, batch):
    ...         return pa.table({"n": pa.compute.utf8_length(batch.table.column("text"))})
    >>> from datadiet.engine import LocalEngine
    >>> LocalEngine().run(pa.table({"text": ["ab", "c"]}), Lengths()).column("n").to_pylist()
    [2, 1]
    """

    columns: list[str] = []

    def setup(self) -> None:
        """Prepare per-worker state (default: nothing)."""

    def process_batch(self, batch: Batch) -> pa.Table:
        raise NotImplementedError

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__)
