"""SMOTE-family over- and under-sampling of vectors, through imbalanced-learn."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from datadiet._core import Declared, Param, register, resolve_seed
from datadiet._core._errors import DataError, MissingExtraError
from datadiet.index._kmeans import _check_vectors
from datadiet.io._ids import check_unique
from datadiet.io._selection import Selection

__all__ = ["SMOTEResampler", "SAMPLERS"]

#: datadiet name -> (imbalanced-learn module, class, kind, takes k_neighbors / n_neighbors)
SAMPLERS: dict[str, tuple[str, str, str, str | None]] = {
    "smote": ("imblearn.over_sampling", "SMOTE", "over", "k_neighbors"),
    "borderline-smote": ("imblearn.over_sampling", "BorderlineSMOTE", "over", "k_neighbors"),
    "svm-smote": ("imblearn.over_sampling", "SVMSMOTE", "over", "k_neighbors"),
    "adasyn": ("imblearn.over_sampling", "ADASYN", "over", "n_neighbors"),
    "random-over": ("imblearn.over_sampling", "RandomOverSampler", "over", None),
    "random-under": ("imblearn.under_sampling", "RandomUnderSampler", "under", None),
    "near-miss": ("imblearn.under_sampling", "NearMiss", "under", "n_neighbors"),
    "tomek-links": ("imblearn.under_sampling", "TomekLinks", "under", None),
    "edited-nn": ("imblearn.under_sampling", "EditedNearestNeighbours", "under", "n_neighbors"),
    "one-sided-selection": ("imblearn.under_sampling", "OneSidedSelection", "under", "n_neighbors"),
    "neighbourhood-cleaning": ("imblearn.under_sampling", "NeighbourhoodCleaningRule", "under", "n_neighbors"),
}
_NO_SEED = {"tomek-links", "edited-nn", "near-miss", "neighbourhood-cleaning"}


def _imblearn_class(name: str) -> Any:
    mod, cls, _, _ = SAMPLERS[name]
    try:
        import importlib

        return getattr(importlib.import_module(mod), cls)
    except ImportError:
        raise MissingExtraError("SMOTE-family resampling needs imbalanced-learn: "
                                "pip install 'datadiet[balance]' (or imbalanced-learn)") from None


@register("balance")
class SMOTEResampler(Declared):
    """Over- or under-sample classes of vectors with an imbalanced-learn sampler.

    A thin wrapper: the resampled arrays ``X_``, ``y_`` are exactly what
    ``imblearn.<Sampler>(random_state=seed, ...).fit_resample(X, y)`` returns.
    Around them it keeps datadiet's records:

    * ``selection_``: one row per real input row; rows an under-sampler removed are
      dropped with reason ``under_sampled``; ``random-over`` duplicates show as
      ``repeats``. Real rows keep their ids.
    * ``synthetic_``: a table of the new rows (SMOTE, Borderline-SMOTE, SVM-SMOTE,
      ADASYN): ``id`` (new ids after the largest integer id, or ``synthetic-N``
      for string ids), ``label``, ``synthetic_of`` (the id of the nearest real row
      of the same class, one end of the segment the row was interpolated on) and
      ``vector``.
    * ``ids_``: the id of every row of ``X_``.

    Python API only (no CLI command): the output is new vectors, not a selection
    of the input's rows.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 4)); y = np.array(["a"] * 50 + ["b"] * 10)
    >>> r = SMOTEResampler(sampler="smote", k_neighbors=3, seed=0).fit(X, y)
    >>> len(r.synthetic_), np.unique(r.y_, return_counts=True)[1].tolist()
    (40, [50, 50])
    """

    method = "smote"
    summary = "SMOTE, Borderline-SMOTE, ADASYN and imbalanced-learn's under-samplers over vectors and labels"
    example = "datadiet.balance.SMOTEResampler(sampler='smote', seed=0).fit(X, y).X_"
    params = (
        Param("sampler", "choice", "smote", "imbalanced-learn sampler", choices=tuple(SAMPLERS), cli=False),
        Param("sampling_strategy", "any", "auto", "imbalanced-learn's sampling_strategy ('auto', a float, "
              "or a mapping class -> count)", cli=False),
        Param("k_neighbors", "int", 5, "neighbours of the sampler (k_neighbors / n_neighbors; "
              "unused by random-over, random-under, tomek-links)", low=1, cli=False),
        Param("options", "object", None, "other keyword arguments of the imbalanced-learn sampler (a dict)",
              none=True, cli=False),
        Param("seed", "seed", 0, "random_state of the sampler", cli=False),
    )

    def make_sampler(self, seed: int) -> Any:
        """The imbalanced-learn sampler these parameters describe."""
        cls = _imblearn_class(self.sampler)
        _, _, _, nn_name = SAMPLERS[self.sampler]
        kw: dict[str, Any] = {"sampling_strategy": self.sampling_strategy}
        if self.sampler not in _NO_SEED:
            kw["random_state"] = seed
        if nn_name is not None:
            kw[nn_name] = self.k_neighbors
        kw.update(self.options or {})
        return cls(**kw)

    def fit(self, X: Any, y: Any, ids: Any = None) -> SMOTEResampler:
        """Resample ``X`` (n, d) with labels ``y``; ``ids`` default to row numbers."""
        self.validate_params()
        X = np.asarray(_check_vectors(X, "X"))
        y = np.asarray(y)
        n = X.shape[0]
        if y.ndim != 1 or len(y) != n:
            raise DataError(f"y must hold one label per row of X ({n}); got shape {y.shape}")
        if n == 0:
            raise DataError("the input has no examples: nothing to resample")
        id_arr = pa.array(np.arange(n, dtype=np.int64)) if ids is None else (
            ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else pa.array(ids) if not isinstance(
                ids, pa.Array) else ids)
        if len(id_arr) != n:
            raise DataError(f"ids has {len(id_arr)} values but X has {n} rows")
        if ids is not None:
            check_unique(id_arr, None, python="ids")
        seed = resolve_seed(self.seed)
        sampler = self.make_sampler(seed)
        kind = SAMPLERS[self.sampler][2]
        try:
            X_res, y_res = sampler.fit_resample(X, y)
        except ValueError as e:  # imbalanced-learn's own checks: too few neighbours, bad strategy
            raise DataError(f"{self.sampler}: {e}") from None
        self.sampler_ = sampler
        self.X_, self.y_ = X_res, y_res
        repeats = np.zeros(n, dtype=np.int64)
        if hasattr(sampler, "sample_indices_"):
            real_pos = np.asarray(sampler.sample_indices_, dtype=np.int64)
            n_real = len(real_pos)
        else:  # SMOTE-style: every real row first, in order, then the synthetic ones
            n_real = n
            real_pos = np.arange(n)
        np.add.at(repeats, real_pos, 1)
        kept = np.flatnonzero(repeats > 0)
        synth_X = np.asarray(X_res[n_real:])
        synth_y = np.asarray(y_res[n_real:])
        new_ids = _new_ids(id_arr, len(synth_X))
        parent = _nearest_same_class(X, y, synth_X, synth_y)
        self.synthetic_ = pa.table({
            "id": new_ids,
            "label": pa.array(synth_y.tolist()),
            "synthetic_of": id_arr.take(pa.array(parent, pa.int64())),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(synth_X.astype(np.float32).ravel()),
                                                        X.shape[1]),
        })
        self.ids_ = pa.concat_arrays([id_arr.take(pa.array(real_pos)), new_ids.cast(id_arr.type)])
        labels, before = np.unique(y, return_counts=True)
        after = {str(lab): int(c) for lab, c in zip(*np.unique(y_res, return_counts=True), strict=True)}
        self.selection_ = Selection.from_indices(
            id_arr, kept, repeats=repeats[kept], drop_reason="under_sampled", method=self.method,
            params={**self.manifest_params(), "seed": seed}, seed=seed,
            metrics={"kind": kind, "synthetic": len(synth_X), "removed": int(n - len(kept)),
                     "classes": {str(lab): {"input": int(b), "output": after.get(str(lab), 0)}
                                 for lab, b in zip(labels, before, strict=True)}},
        )
        self.seed_ = seed
        return self


def _new_ids(ids: pa.Array, m: int) -> pa.Array:
    if pa.types.is_integer(ids.type):
        start = (int(max(ids.to_numpy())) + 1) if len(ids) else 0
        return pa.array(np.arange(start, start + m, dtype=np.int64)).cast(ids.type)
    return pa.array([f"synthetic-{i}" for i in range(m)], pa.string()).cast(ids.type)


def _nearest_same_class(X: np.ndarray, y: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    """Position of the nearest real row of the same class for every synthetic row (faiss, per class)."""
    from datadiet.index import knn

    out = np.zeros(len(sx), dtype=np.int64)
    for lab in np.unique(sy):
        rows = np.flatnonzero(y == lab)
        q = np.flatnonzero(sy == lab)
        _, idx = knn(sx[q], X[rows], 1, metric="l2")
        out[q] = rows[idx[:, 0]]
    return out
