"""The local engine: run a step in-process over streaming batches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pyarrow as pa

from datadiet._core._progress import progress
from datadiet.engine._step import Step
from datadiet.io._read import open_source

__all__ = ["LocalEngine"]


class LocalEngine:
    """Run a :class:`Step` over the batches of a source in this process, in input order."""

    name = "local"
    workers = 1

    def session(self) -> AbstractContextManager[Any]:
        """Nothing to start: a multi-stage method brackets its stages with this on every engine."""
        return nullcontext()

    def run(self, data: Any, step: Step, *, batch_size: int = 65536, description: str = "reading") -> pa.Table:
        from datadiet.io._columns import total_rows

        source = open_source(data)
        source.check_columns(step.columns)
        step.setup()
        parts = []
        with progress(description, total_rows(source)) as bar:
            for batch in source.batches(step.columns, batch_size):
                parts.append(step.process_batch(batch))
                bar.advance(batch.table.num_rows)
        if not parts:
            return pa.table({})
        return pa.concat_tables(parts)

    def map_tasks(self, fn: Callable[[Any, Any], Any], tasks: Sequence[Any], shared: Any, *,
                  description: str = "tasks") -> list[Any]:
        """``[fn(task, shared) for task in tasks]``, in order: the reduce tasks of a multi-pass step
        (on Ray each is a task; ``shared`` is put in the object store once)."""
        out = []
        with progress(description, len(tasks)) as bar:
            for task in tasks:
                out.append(fn(task, shared))
                bar.advance(1)
        return out
