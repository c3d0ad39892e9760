"""``datadiet cluster``: k-means of the vectors, cached as the ``cluster`` signal."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
import numpy as np
import pyarrow as pa

from datadiet._core._errors import DataError
from datadiet.cli._common import (
    columns_from,
    common_options,
    engine_from,
    engine_options,
    engine_session,
    role_options,
    source_from,
    user_errors,
)
from datadiet.io import atomic_path, check_output_path

EPILOG = """
\b
Examples:
  datadiet cluster reviews.jsonl --text text --model minilm --k 100
  datadiet cluster data.parquet --vectors emb --k 1000 --metric l2 -o clusters.parquet
\b
The cluster id and distance to the centroid of every row are cached (signal 'cluster')
and, with -o, written as a Parquet file with columns id, cluster, distance.
"""


@click.command("cluster", epilog=EPILOG)
@click.argument("input")
@click.option("--k", "k", type=int, required=True, help="Number of clusters.")
@click.option("--model", metavar="MODEL", help="Embed --text with this model first (see datadiet embed).")
@click.option("--metric", type=click.Choice(["cosine", "l2"]), default="cosine", show_default=True,
              help="cosine: spherical k-means, distance 1 - cos; l2: Euclidean.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--niter", type=int, default=20, show_default=True, help="k-means iterations.")
@click.option("--max-train", type=int, help="Rows used to fit the centroids (default 128 per cluster).")
@click.option("--restarts", type=int, default=1, show_default=True,
              help="Independent k-means runs; the one with the lowest inertia is kept.")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write id, cluster, distance here (.parquet).")
@click.option("--overwrite", is_flag=True, help="Replace an existing --output.")
@role_options
@engine_options
@common_options
@user_errors
def cluster(input: str, k: int, model: str | None, metric: str, seed: int, niter: int, max_train: int | None,
            restarts: int, output: Path | None, overwrite: bool, quiet: bool, **kw: Any) -> None:
    """Cluster the vectors of INPUT (from --vectors, or --text embedded with --model) into --k groups.

    With --engine ray, embedding (--model) and reading run on Ray; k-means (faiss) then
    fits and assigns in this process on the gathered vectors.
    """
    import pyarrow.parquet as pq

    from datadiet._core._rows import require_finite_rows
    from datadiet.cli._vectors import vectors_for
    from datadiet.engine import load_signals
    from datadiet.index import kmeans
    from datadiet.signals import SignalCache

    if output is not None:
        check_output_path(output, overwrite, suffixes=(".parquet",))
    engine = engine_from(kw)
    source = source_from(input, kw)
    columns = columns_from(kw, source)
    with engine_session(engine):
        vec, how = vectors_for(source, columns, model, engine=engine)
        ids = load_signals(source, replace(columns, vectors=None, text=None, label=None, group=None,
                                           scores=(), tokens=None), engine=engine).ids
        if len(ids) != vec.shape[0]:
            raise DataError(f"the vectors have {vec.shape[0]} rows but the input has {len(ids)}")
        require_finite_rows(vec, ids)
        t0 = time.perf_counter()
        res = kmeans(vec, k, spherical=metric == "cosine", seed=seed, niter=niter, max_train=max_train, ids=ids,
                     restarts=restarts)
        seconds = time.perf_counter() - t0
    params = {"k": k, "metric": metric, "seed": seed, "niter": niter, "max_train": max_train, **how,
              **({"restarts": restarts} if restarts != 1 else {})}  # one run keeps the cache key it always had
    table = pa.table({"id": ids, "cluster": pa.array(res.labels.astype(np.int32)),
                      "distance": pa.array(res.distances)})
    cache = SignalCache(source)
    cache.save_table("cluster", params, table)
    cache.save_vectors("cluster-centroids", params, res.centroids)
    if output is not None:
        with atomic_path(output) as tmp:
            pq.write_table(table, tmp)
    if quiet:
        return
    from rich.console import Console
    from rich.table import Table

    sizes = res.sizes()
    t = Table(title=f"datadiet cluster {input}", title_justify="left", show_header=False)
    t.add_row("rows", f"{len(ids):,}")
    t.add_row("clusters", f"{res.k:,} ({int((sizes == 0).sum())} empty)")
    t.add_row("cluster size", f"min {sizes.min():,}, median {int(np.median(sizes)):,}, max {sizes.max():,}")
    t.add_row("distance to centroid", f"mean {res.distances.mean():.4f} ({'1 - cos' if metric == 'cosine' else 'L2'})")
    t.add_row("seconds", f"{seconds:.1f}")
    t.add_row("cached in", str(cache.dir) if cache.dir else "(not cached: in-memory input)")
    if output is not None:
        t.add_row("written", str(output))
    Console().print(t)
