"""k-means assignment against fitted centroids as a step on any engine."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from datadiet.engine._step import Step
from datadiet.index._kmeans import assign
from datadiet.io._columns import column_vectors
from datadiet.io._read import Batch, open_source

__all__ = ["AssignStep", "assign_on_engine"]


class AssignStep(Step):
    """Per row: the nearest centroid and the distance to it (:func:`datadiet.index.assign` per block)."""

    def __init__(self, vectors: str, centroids: np.ndarray, spherical: bool = False) -> None:
        self.vectors = vectors
        self.centroids = np.ascontiguousarray(centroids, dtype=np.float32)
        self.spherical = spherical
        self.columns = [vectors]

    def process_batch(self, batch: Batch) -> pa.Table:
        x = column_vectors(batch.table.column(self.vectors), self.vectors)
        labels, dist = assign(x, self.centroids, spherical=self.spherical)
        return pa.table({"cluster": pa.array(labels), "distance": pa.array(dist)})


def assign_on_engine(source: Any, vectors: str, centroids: np.ndarray, engine: Any, *, spherical: bool = False,
                     batch_size: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, distances)`` of every row of ``source``'s ``vectors`` column, assigned on ``engine``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from datadiet.engine import LocalEngine
    >>> t = pa.table({"v": [[0.0, 0.0], [9.0, 9.0]]})
    >>> assign_on_engine(t, "v", np.array([[10.0, 10], [0, 1]]), LocalEngine())[0].tolist()
    [1, 0]
    """
    from datadiet.engine._engines import get_engine

    out = get_engine(engine).run(open_source(source), AssignStep(vectors, centroids, spherical),
                                 batch_size=batch_size, description="assigning clusters")
    return out.column("cluster").to_numpy().astype(np.int64), out.column("distance").to_numpy()
