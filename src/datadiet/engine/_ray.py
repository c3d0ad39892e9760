"""The Ray engine: the same steps as Ray Data ``map_batches`` tasks, one file (shard) per task.

Files are the unit of parallelism, so each task knows the file and the row
numbers of what it reads and assigns the same ids as the local engine. Results
come back in file order. In-memory tables run on the local engine.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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


def _run_files(files: pa.Table, step: Step, batch_size: int, root: str | None) -> pa.Table:
    """Run ``step`` over whole files; each output row is tagged with its file's index."""
    from pathlib import Path

    out = []
    for index, path in zip(files.column("index").to_pylist(), files.column("path").to_pylist(), strict=True):
        src = Source([Path(path)], Path(root) if root else Path(path))
        parts = [step.process_batch(b) for b in src.batches(step.columns, batch_size)]
        if parts:
            t = pa.concat_tables(parts)
            out.append(t.append_column("__file", pa.array(np.full(t.num_rows, index, dtype=np.int64))))
    return pa.concat_tables(out) if out else pa.table({"__file": pa.array([], pa.int64())})


class _RunStep:
    """Ray Data actor for a step with state: sets it up once, then processes whole files."""

    def __init__(self, step: Step, batch_size: int, root: str | None) -> None:
        self.step = step
        self.batch_size = batch_size
        self.root = root
        step.setup()

    def __call__(self, files: pa.Table) -> pa.Table:
        return _run_files(files, self.step, self.batch_size, self.root)


def _stateless(files: pa.Table, step: Step, batch_size: int, root: str | None) -> pa.Table:
    step.setup()
    return _run_files(files, step, batch_size, root)


class RayEngine:
    """Run a :class:`Step` with Ray Data, one shard per task, on an actor pool.

    Where the cluster comes from, in order: ``address`` (``"ray://HOST:PORT"`` for
    Ray Client, ``"auto"`` for the cluster this machine belongs to, or
    ``HOST:PORT``), a Ray you already started with ``ray.init``, the
    ``RAY_ADDRESS`` environment variable; otherwise a local Ray with ``num_cpus``
    CPUs, an ``object_store_memory`` store, no dashboard and a temporary
    directory, shut down afterwards. Multi-stage methods keep one Ray session for
    all their stages (:meth:`session`).

    Parameters
    ----------
    address : str, optional
        Cluster to connect to (see above).
    num_cpus : int, optional
        CPUs of a local Ray started by the engine (default: all).
    object_store_memory : int, default 256 MiB
        Object store of a local Ray started by the engine.
    concurrency : int, optional
        Number of actors (workers), each with one CPU (default: the cluster's CPUs,
        at most one per file).
    temp_dir : str, optional
        Ray's session directory for a local Ray (default: a new temporary folder).

    Examples
    --------
    >>> RayEngine(address="auto", concurrency=8).concurrency
    8
    """

    name = "ray"

    def __init__(self, *, address: str | None = None, num_cpus: int | None = None,
                 object_store_memory: int = 256 << 20, concurrency: int | None = None,
                 temp_dir: str | None = None) -> None:
        self.address = address
        self.num_cpus = num_cpus
        self.object_store_memory = object_store_memory
        self.concurrency = concurrency
        self.temp_dir = temp_dir

    @contextmanager
    def session(self) -> Iterator[Any]:
        """Connect to (or start) Ray for the duration of the block; nested sessions share one."""
        ray = _import_ray()
        started = False
        if not ray.is_initialized():
            address = self.address or os.environ.get("RAY_ADDRESS")
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=self.num_cpus or os.cpu_count(), object_store_memory=self.object_store_memory,
                         include_dashboard=False, log_to_driver=False,
                         _temp_dir=self.temp_dir or tempfile.mkdtemp(prefix="datadiet-ray-"))
            started = True
        try:
            ray.data.DataContext.get_current().enable_progress_bars = False
            yield ray
        finally:
            if started:
                ray.shutdown()

    @property
    def workers(self) -> int:
        """Actors a stage runs on (known once a session is open)."""
        if self.concurrency:
            return int(self.concurrency)
        ray = _import_ray()
        return int(ray.cluster_resources().get("CPU", 1)) if ray.is_initialized() else (self.num_cpus or 1)

    def map_tasks(self, fn: Callable[[Any, Any], Any], tasks: Sequence[Any], shared: Any, *,
                  description: str = "tasks") -> list[Any]:
        """``[fn(task, shared) for task in tasks]`` as Ray tasks (one CPU each), results in order.

        ``shared`` (arrays every task reads: masks, ranks) is put in the object store once;
        at most :attr:`workers` tasks run at a time.
        """
        with self.session() as ray:
            ref = ray.put(shared)
            remote = ray.remote(num_cpus=1)(fn)
            limit = max(1, self.workers)
            refs: list[Any] = []
            inflight: list[Any] = []
            for task in tasks:
                if len(inflight) >= limit:
                    _, inflight = ray.wait(inflight, num_returns=len(inflight) - limit + 1)
                refs.append(remote.remote(task, ref))
                inflight.append(refs[-1])
            return list(ray.get(refs))

    def run(self, data: Any, step: Step, *, batch_size: int = 65536, description: str = "reading") -> pa.Table:
        source = open_source(data)
        if source.table is not None:
            return LocalEngine().run(source, step, batch_size=batch_size, description=description)
        source.check_columns(step.columns)
        with self.session() as ray:
            items = [{"index": i, "path": str(f)} for i, f in enumerate(source.files)]
            root = str(source.root) if source.root is not None and source.root.is_dir() else None
            pool = max(1, min(self.workers, len(source.files)))
            files = ray.data.from_items(items, override_num_blocks=len(items))
            if type(step).setup is Step.setup:  # no per-worker state: tasks, on Ray's reused worker processes
                ds = files.map_batches(_stateless, fn_args=(step, batch_size, root), batch_size=1,
                                       batch_format="pyarrow", concurrency=pool, num_cpus=1)
            else:  # a model or an index: an actor pool, set up once per actor
                ds = files.map_batches(_RunStep, fn_constructor_args=(step, batch_size, root), batch_size=1,
                                       batch_format="pyarrow", concurrency=pool, num_cpus=1)
            tables = [ray.get(ref) for ref in ds.to_arrow_refs()]
        tables = [t for t in tables if t.num_rows]
        if not tables:
            return pa.table({})
        result = pa.concat_tables(tables, promote_options="default")
        order = np.argsort(result.column("__file").to_numpy(), kind="stable")
        return result.take(pa.array(order)).drop_columns(["__file"])
