"""The Ray engine: the same steps as Ray Data ``map_batches`` tasks, one file (shard) per task.

Files are the unit of parallelism, so each task knows the file and the row
numbers of what it reads and assigns the same ids as the local engine. Results
come back in file order. In-memory tables run on the local engine.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np
import pyarrow as pa

from datadiet._core._errors import MissingExtraError
from datadiet.engine._local import LocalEngine
from datadiet.engine._step import Step
from datadiet.io._read import Source, open_source

__all__ = ["RayEngine"]


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise MissingExtraError("the ray engine needs Ray Data: pip install 'datadiet[ray]'") from None
    return ray


class _RunStep:
    """Ray Data actor: sets the step up once, then processes whole files."""

    def __init__(self, step: Step, batch_size: int, root: str | None) -> None:
        self.step = step
        self.batch_size = batch_size
        self.root = root
        step.setup()

    def __call__(self, files: pa.Table) -> pa.Table:
        from pathlib import Path

        out = []
        for index, path in zip(files.column("index").to_pylist(), files.column("path").to_pylist()):
            src = Source([Path(path)], Path(self.root) if self.root else Path(path))
            parts = [self.step.process_batch(b) for b in src.batches(self.step.columns, self.batch_size)]
            if parts:
                t = pa.concat_tables(parts)
                out.append(t.append_column("__file", pa.array(np.full(t.num_rows, index, dtype=np.int64))))
        return pa.concat_tables(out) if out else pa.table({"__file": pa.array([], pa.int64())})


class RayEngine:
    """Run a :class:`Step` with Ray Data, one shard per task.

    Uses the running Ray cluster when there is one (``ray.init`` called by you or
    ``RAY_ADDRESS`` set); otherwise starts a local one with ``num_cpus`` CPUs, a
    bounded object store and no dashboard, and shuts it down afterwards.

    Parameters
    ----------
    num_cpus : int, optional
        CPUs of a local Ray started by the engine (default: all).
    object_store_memory : int, default 256 MiB
        Object store of a local Ray started by the engine.
    concurrency : int, optional
        Number of actors (default: ``num_cpus`` or the cluster's CPUs).
    """

    name = "ray"

    def __init__(self, *, num_cpus: int | None = None, object_store_memory: int = 256 << 20,
                 concurrency: int | None = None) -> None:
        self.num_cpus = num_cpus
        self.object_store_memory = object_store_memory
        self.concurrency = concurrency

    def run(self, data: Any, step: Step, *, batch_size: int = 65536, description: str = "reading") -> pa.Table:
        source = open_source(data)
        if source.table is not None:
            return LocalEngine().run(source, step, batch_size=batch_size, description=description)
        source.check_columns(step.columns)
        ray = _import_ray()
        started = False
        if not ray.is_initialized():
            if os.environ.get("RAY_ADDRESS"):
                ray.init(address=os.environ["RAY_ADDRESS"], log_to_driver=False)
            else:
                ray.init(num_cpus=self.num_cpus or os.cpu_count(), object_store_memory=self.object_store_memory,
                         include_dashboard=False, log_to_driver=False,
                         _temp_dir=tempfile.mkdtemp(prefix="datadiet-ray-"))
            started = True
        try:
            items = [{"index": i, "path": str(f)} for i, f in enumerate(source.files)]
            root = str(source.root) if source.root is not None and source.root.is_dir() else None
            cpus = int(ray.cluster_resources().get("CPU", 1))
            ds = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
                _RunStep, fn_constructor_args=(step, batch_size, root), batch_size=1, batch_format="pyarrow",
                concurrency=self.concurrency or max(1, min(cpus, len(source.files))), num_cpus=1)
            tables = [ray.get(ref) for ref in ds.to_arrow_refs()]
        finally:
            if started:
                ray.shutdown()
        tables = [t for t in tables if t.num_rows]
        if not tables:
            return pa.table({})
        result = pa.concat_tables(tables, promote_options="default")
        order = np.argsort(result.column("__file").to_numpy(), kind="stable")
        return result.take(pa.array(order)).drop_columns(["__file"])
