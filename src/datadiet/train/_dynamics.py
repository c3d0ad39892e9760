"""Training-dynamics recorder: EL2N, GraNd, forgetting, AUM and data maps from what training already computes.

Per example and epoch the store keeps six float32 numbers (24 bytes): seen,
probability of the given label, margin (its logit minus the largest other
logit), EL2N (L2 norm of softmax minus one-hot), correct, and the gradient norm
when one is given (GraNd). It is a memory-mapped ``.npy`` of shape
``(max_epochs, n, 6)`` under ``path``, so a run of ``n`` examples for ``E``
epochs takes ``24 * n * E`` bytes whatever the number of classes. A record
overwrites that example's slot of that epoch, so replaying an epoch after a
crash gives the same store: open the same ``path`` again and go on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from datadiet._core import (
    REQUIRED,
    DataError,
    Declared,
    MissingExtraError,
    Param,
    derived_seed,
    uniform_keys,
)
from datadiet.train._base import _to_numpy

__all__ = ["DynamicsRecorder", "assign_threshold_examples", "aum_cutoff", "plot_data_map", "SCORE_COLUMNS"]

FIELDS = ("seen", "p_label", "margin", "el2n", "correct", "grad_norm")
SCORE_COLUMNS = ("el2n", "grand", "forgetting", "aum", "confidence", "variability", "correctness")
_META = "dynamics.json"
_STATS = "stats.npy"
_LABELS = "labels.npy"


class DynamicsRecorder(Declared):
    """Record per-example training dynamics to a bounded, memory-mapped store; compute scores from it.

    Call :meth:`record` after each forward pass with the batch's indices,
    logits and labels (numpy arrays or torch tensors). :meth:`scores` gives per
    example:

    * ``el2n``: mean over the chosen epochs of ``||softmax(logits) - onehot(y)||_2``
      (Paul et al.; early epochs are the usual choice: ``scores(epochs=range(3))``);
    * ``grand``: mean gradient norm, when ``grad_norms`` were recorded (else NaN);
    * ``forgetting``: number of epochs where an example correct the previous time
      it was seen is now wrong (Toneva et al.); examples never correct count as
      forgotten at every epoch seen, so they rank as the most forgettable;
    * ``aum``: area under the margin, the mean of ``logit_y - max_{j != y} logit_j``
      (Pleiss et al.); low means likely mislabelled (see
      :func:`assign_threshold_examples` and :func:`aum_cutoff`);
    * ``confidence``, ``variability``, ``correctness``: mean and standard
      deviation of the probability of the label, and the share of epochs
      predicted right (data maps, Swayamdipta et al.).

    Scores are averages over the epochs an example was seen; with several
    presentations in an epoch the last one counts.

    Examples
    --------
    >>> import tempfile
    >>> rec = DynamicsRecorder(2, 2, tempfile.mkdtemp())
    >>> rec.record(0, [0, 1], np.array([[2.0, 0.0], [0.0, 1.0]]), [0, 0])
    >>> s = rec.scores()
    >>> s["aum"].tolist(), s["correctness"].tolist()
    ([2.0, -1.0], [1.0, 0.0])
    """

    params = (
        Param("n", "int", REQUIRED, "number of training examples", low=1, positional=True, cli=False),
        Param("num_classes", "int", REQUIRED, "number of classes (outputs of the model)", low=2, positional=True),
        Param("path", "any", REQUIRED, "folder of the store (created; reopened to resume)", positional=True),
        Param("max_epochs", "int", 200, "most epochs the store holds (24 bytes per example per epoch)", low=1),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.validate_params()
        root = Path(self.path)
        meta_path = root / _META
        if meta_path.exists():
            try:
                meta = json.loads(meta_path.read_text())
                meta["n"], meta["num_classes"], meta["max_epochs"]  # noqa: B018
            except (OSError, KeyError, TypeError, json.JSONDecodeError) as e:
                raise DataError(f"{meta_path}: unreadable dynamics metadata ({e}); record the run again") from None
            if (meta["n"], meta["num_classes"]) != (self.n, self.num_classes):
                raise DataError(f"{root}: holds a recording of n={meta['n']}, num_classes={meta['num_classes']}; "
                                f"this recorder has n={self.n}, num_classes={self.num_classes}: use another path")
            self.max_epochs_ = int(meta["max_epochs"])
            try:
                self._stats = np.load(root / _STATS, mmap_mode="r+")
                self._labels = np.load(root / _LABELS, mmap_mode="r+")
            except (OSError, ValueError) as e:
                raise DataError(f"{root}: the dynamics store is damaged or incomplete ({e}); "
                                "record the run again into a new folder") from None
            if self._stats.shape != (self.max_epochs_, self.n, len(FIELDS)) or self._labels.shape != (self.n,):
                raise DataError(f"{root}: the dynamics store does not match its metadata "
                                f"(shape {self._stats.shape}); record the run again into a new folder")
        else:
            if root.exists() and not root.is_dir():
                raise DataError(f"{root}: exists and is not a folder; give a folder for the dynamics store")
            root.mkdir(parents=True, exist_ok=True)
            self.max_epochs_ = int(self.max_epochs)
            self._stats = np.lib.format.open_memmap(root / _STATS, mode="w+", dtype=np.float32,
                                                    shape=(self.max_epochs_, self.n, len(FIELDS)))
            self._labels = np.lib.format.open_memmap(root / _LABELS, mode="w+", dtype=np.int32, shape=(self.n,))
            self._labels[:] = -1
            self.flush()
            meta_path.write_text(json.dumps({"n": self.n, "num_classes": self.num_classes,
                                             "max_epochs": self.max_epochs_, "fields": list(FIELDS),
                                             "bytes_per_example_epoch": 4 * len(FIELDS)}))

    @classmethod
    def open(cls, path: str | Path) -> DynamicsRecorder:
        """Reopen an existing store (sizes read from it)."""
        meta_path = Path(path) / _META
        if not meta_path.exists():
            raise DataError(f"{path}: not a dynamics store (no {_META}); record one with DynamicsRecorder")
        try:
            meta = json.loads(meta_path.read_text())
            return cls(int(meta["n"]), int(meta["num_classes"]), path, max_epochs=int(meta["max_epochs"]))
        except (KeyError, TypeError, json.JSONDecodeError) as e:
            raise DataError(f"{meta_path}: unreadable dynamics metadata ({e}); record the run again") from None

    def record(self, epoch: int, indices: Any, logits: Any, labels: Any, grad_norms: Any = None) -> None:
        """Record one step: ``logits`` of shape ``(batch, num_classes)`` for examples ``indices``."""
        if isinstance(epoch, (bool, np.bool_)) or not isinstance(epoch, (int, np.integer)) \
                or not 0 <= epoch < self.max_epochs_:
            raise DataError(f"DynamicsRecorder.record: epoch must be an integer in [0, {self.max_epochs_}); "
                            f"got {epoch!r} (raise max_epochs)")
        idx = np.asarray(_to_numpy(indices))
        z = np.asarray(_to_numpy(logits), dtype=np.float64)
        y = np.asarray(_to_numpy(labels))
        b = len(idx)
        if idx.ndim != 1 or (b and idx.dtype.kind not in "iu"):
            raise DataError(f"DynamicsRecorder.record: indices must be a 1-d array of integers; got shape {idx.shape}")
        if z.shape != (b, self.num_classes):
            raise DataError(f"DynamicsRecorder.record: logits must have shape ({b}, {self.num_classes}); got {z.shape}")
        if y.shape != (b,) or (b and y.dtype.kind not in "iu"):
            raise DataError(f"DynamicsRecorder.record: labels must be {b} integers; got {y.dtype} of shape {y.shape}")
        if not b:
            return
        if idx.min() < 0 or idx.max() >= self.n:
            raise DataError(f"DynamicsRecorder.record: indices must be in [0, {self.n}); "
                            f"got {int(idx.min())}..{int(idx.max())}")
        if y.min() < 0 or y.max() >= self.num_classes:
            raise DataError(f"DynamicsRecorder.record: labels must be in [0, {self.num_classes}); "
                            f"got {int(y.min())}..{int(y.max())}")
        if not np.isfinite(z).all():
            raise DataError("DynamicsRecorder.record: logits must be finite (the model diverged?)")
        idx, y = idx.astype(np.int64), y.astype(np.int64)
        rows = np.arange(b)
        zy = z[rows, y]
        other = z.copy()
        other[rows, y] = -np.inf
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        onehot = np.zeros_like(p)
        onehot[rows, y] = 1.0
        out = np.empty((b, len(FIELDS)), dtype=np.float32)
        out[:, 0] = 1.0
        out[:, 1] = p[rows, y]
        out[:, 2] = zy - other.max(axis=1)
        out[:, 3] = np.sqrt(((p - onehot) ** 2).sum(axis=1))
        out[:, 4] = (z.argmax(axis=1) == y)
        if grad_norms is None:
            out[:, 5] = np.nan
        else:
            g = np.asarray(_to_numpy(grad_norms), dtype=np.float64).reshape(-1)
            if len(g) != b:
                raise DataError(f"DynamicsRecorder.record: grad_norms must have {b} values; got {len(g)}")
            out[:, 5] = g
        self._stats[int(epoch), idx] = out
        self._labels[idx] = y

    def flush(self) -> None:
        """Write the store to disk (the OS does it anyway; call at the end of an epoch)."""
        self._stats.flush()
        self._labels.flush()

    @property
    def labels_(self) -> np.ndarray:
        """Last label recorded for each example (-1: never recorded)."""
        return np.asarray(self._labels).astype(np.int64)

    def epochs_recorded(self) -> np.ndarray:
        """Epochs that hold at least one record."""
        return np.array([e for e in range(self.max_epochs_) if np.asarray(self._stats[e, :, 0]).any()],
                        dtype=np.int64)

    def scores(self, epochs: Any = None, chunk: int = 1 << 17) -> dict[str, np.ndarray]:
        """Per-example scores (see the class docstring); ``epochs`` restricts EL2N and GraNd to those epochs.

        Reads the store ``chunk`` examples at a time (memory: ``48 * epochs * chunk`` bytes).
        """
        rec = self.epochs_recorded()
        if not len(rec):
            raise DataError("DynamicsRecorder.scores: nothing recorded yet; call record() during training")
        want = np.ones(len(rec), dtype=bool)
        if epochs is not None:
            want = np.isin(rec, np.asarray(list(epochs), dtype=np.int64))
            if not want.any():
                raise DataError(f"DynamicsRecorder.scores: none of epochs {list(epochs)[:5]} was recorded; "
                                f"recorded: {rec.tolist()[:10]}")
        out = {k: np.empty(self.n) for k in (*SCORE_COLUMNS, "epochs_seen")}
        for a in range(0, self.n, chunk):
            b = min(a + chunk, self.n)
            part = _chunk_scores(np.asarray(self._stats[rec, a:b], dtype=np.float64), want)
            for k, v in part.items():
                out[k][a:b] = v
        return out

    def scores_table(self, ids: Any = None, epochs: Any = None) -> Any:
        """The scores as a signal table: ``id`` (default 0..n-1), ``label`` and one column per score."""
        import pyarrow as pa

        s = self.scores(epochs)
        if ids is None:
            ids = np.arange(self.n, dtype=np.int64)
        ids_arr = pa.array(_to_numpy(ids))
        if len(ids_arr) != self.n:
            raise DataError(f"DynamicsRecorder.scores_table: ids must have {self.n} values; got {len(ids_arr)}")
        from datadiet.io._ids import check_unique

        check_unique(ids_arr, None, python="ids")
        cols = {"id": ids_arr, "label": pa.array(self.labels_)}
        cols.update({k: pa.array(s[k]) for k in (*SCORE_COLUMNS, "epochs_seen")})
        return pa.table(cols)


def _chunk_scores(st: np.ndarray, want: np.ndarray) -> dict[str, np.ndarray]:
    """Scores of a block of examples from its records ``st`` of shape ``(epochs, examples, fields)``."""
    seen = st[:, :, 0] > 0
    cnt = seen.sum(axis=0)

    def mean(f: int, mask: np.ndarray = seen) -> np.ndarray:
        c = mask.sum(axis=0)
        return np.where(c > 0, np.where(mask, st[:, :, f], 0.0).sum(axis=0) / np.maximum(c, 1), np.nan)

    with np.errstate(invalid="ignore", divide="ignore"):
        conf = mean(1)
        sq = np.where(seen, (st[:, :, 1] - np.nan_to_num(conf)) ** 2, 0.0).sum(axis=0) / np.maximum(cnt, 1)
        var = np.where(cnt > 0, np.sqrt(sq), np.nan)
        sub = seen & want[:, None]
        el2n = mean(3, sub)
        grand = mean(5, sub & ~np.isnan(st[:, :, 5]))
    correct = st[:, :, 4] > 0.5
    forgetting = np.zeros(st.shape[1])
    prev = np.zeros(st.shape[1], dtype=bool)
    ever = np.zeros(st.shape[1], dtype=bool)
    for k in range(st.shape[0]):
        s = seen[k]
        forgetting += s & prev & ~correct[k]
        prev = np.where(s, correct[k], prev)
        ever |= s & correct[k]
    forgetting = np.where(ever, forgetting, cnt).astype(np.float64)
    return {"el2n": el2n, "grand": grand, "forgetting": np.where(cnt > 0, forgetting, np.nan),
            "aum": mean(2), "confidence": conf, "variability": var, "correctness": mean(4),
            "epochs_seen": cnt.astype(np.float64)}


def assign_threshold_examples(labels: Any, num_classes: int, seed: int = 0,
                              fraction: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """AUM's threshold examples: relabel a random share to a new, non-existent class ``num_classes``.

    Train a model with ``num_classes + 1`` outputs on the returned labels; the
    threshold examples are mislabelled by construction, so their AUM tells how
    low a mislabelled example's AUM is (:func:`aum_cutoff`). ``fraction``
    defaults to ``1 / (num_classes + 1)`` (Pleiss et al.). The choice is keyed by
    ``(seed, index)``; run twice with different seeds to score every example.

    Returns ``(new_labels, is_threshold)``.

    Examples
    --------
    >>> y = np.repeat(np.arange(3), 20)
    >>> new, mask = assign_threshold_examples(y, 3, seed=0)
    >>> int(mask.sum()), set(new[mask].tolist())
    (15, {3})
    """
    y = np.asarray(_to_numpy(labels))
    if y.ndim != 1 or (len(y) and y.dtype.kind not in "iu"):
        raise DataError(f"assign_threshold_examples: labels must be a 1-d array of integers; got {y.dtype}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise DataError(f"assign_threshold_examples: num_classes must be an integer >= 1; got {num_classes!r}")
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise DataError(f"assign_threshold_examples: labels must be in [0, {num_classes}); got {y.min()}..{y.max()}")
    frac = 1.0 / (num_classes + 1) if fraction is None else float(fraction)
    if not 0 < frac < 1:
        raise DataError(f"assign_threshold_examples: fraction must be in (0, 1); got {fraction!r}")
    k = int(round(frac * len(y)))
    keys = uniform_keys(np.arange(len(y)), derived_seed(int(seed), "aum-threshold"))
    mask = np.zeros(len(y), dtype=bool)
    mask[np.argsort(keys, kind="stable")[:k]] = True
    new = y.astype(np.int64).copy()
    new[mask] = num_classes
    return new, mask


def aum_cutoff(aum: Any, is_threshold: Any, percentile: float = 99.0) -> float:
    """AUM below which an example is flagged as mislabelled: the ``percentile`` of the threshold examples' AUM.

    Examples
    --------
    >>> aum_cutoff(np.array([3.0, -1.0, -2.0, 2.0]), np.array([False, True, True, False]), 50)
    -1.5
    """
    a = np.asarray(aum, dtype=np.float64)
    m = np.asarray(is_threshold, dtype=bool)
    if a.shape != m.shape:
        raise DataError(f"aum_cutoff: aum and is_threshold must have the same shape; got {a.shape} and {m.shape}")
    vals = a[m & np.isfinite(a)]
    if not len(vals):
        raise DataError("aum_cutoff: no threshold example has an AUM; record a run on assign_threshold_examples labels")
    return float(np.percentile(vals, percentile))


def plot_data_map(scores: dict[str, np.ndarray], path: str | Path, title: str = "Data map",
                  max_points: int = 20000) -> Path:
    """Confidence vs variability, coloured by correctness, written as a PNG (needs matplotlib).

    At most ``max_points`` examples are drawn (an even subsample, keyed by index).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError("the data-map plot needs matplotlib: pip install 'datadiet[plot]'") from None
    conf, var, corr = (np.asarray(scores[k], dtype=np.float64) for k in ("confidence", "variability", "correctness"))
    ok = np.flatnonzero(np.isfinite(conf) & np.isfinite(var))
    if len(ok) > max_points:
        keep = np.argsort(uniform_keys(ok, derived_seed(0, "data-map")), kind="stable")[:max_points]
        ok = np.sort(ok[keep])
    fig, ax = plt.subplots(figsize=(6, 5), dpi=110)
    sc = ax.scatter(var[ok], conf[ok], c=corr[ok], cmap="viridis", s=4, alpha=0.7, vmin=0, vmax=1)
    fig.colorbar(sc, ax=ax, label="correctness")
    ax.set_xlabel("variability")
    ax.set_ylabel("confidence")
    ax.set_title(f"{title} ({len(ok)} examples)")
    out = Path(path)
    fig.tight_layout()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out
