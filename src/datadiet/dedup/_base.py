"""Base of the dedup methods: keep policies, cross-set mode and the record of every duplicate.

A dedup method links rows it considers duplicates (``_links``); the base class
turns links into connected components, keeps one row per component by the keep
policy and records, for every dropped row, the kept row it duplicates
(``duplicate_of``) and the method that found it (``dup_method``). Methods run in
stages (exact, then near, then semantic); a row kept by one stage can be dropped
by a later one, and every ``duplicate_of`` is then followed to the row finally kept.

Cross-set mode (``fit(train, against=eval)``): evaluation rows are always kept
and always preferred, so a training row in a component with an evaluation row
is dropped with reason ``contaminated`` and ``duplicate_of`` naming that row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datadiet._core import Declared, Param, resolve_seed, tiebreak_keys, uniform_keys
from datadiet._core._errors import DataError, DataTypeError, ParamError
from datadiet.dedup._lsh import components
from datadiet.dedup._normalize import as_text_array
from datadiet.io._selection import Selection
from datadiet.signals._table import Signals

__all__ = ["BaseDedup", "KEEP_POLICIES", "KEEP_PARAMS", "Combined", "star_links"]

KEEP_POLICIES = ("first", "longest", "score", "random")

#: The parameters every dedup method shares: which row of a duplicate cluster is kept, and cross-set mode.
KEEP_PARAMS = (
    Param("keep", "choice", "first", "which row of each duplicate cluster is kept: the first in input order, "
          "the longest text, the highest score, or a random one keyed by (seed, id)", choices=KEEP_POLICIES),
    Param("score", "str", None, "score column for keep='score' (the highest is kept)", none=True, cli=False),
    Param("seed", "seed", 0, "seed of keep='random' and of k-means (None: fresh, recorded in the manifest)"),
    Param("within", "bool", True, "in cross-set mode, also drop duplicates inside the training set", cli=False),
)


@dataclass
class Combined:
    """Training rows followed by evaluation rows (cross-set mode), as one signal set."""

    sig: Signals
    n_train: int

    @property
    def n(self) -> int:
        return len(self.sig)


def _combine(train: Signals, against: Signals | None) -> Combined:
    if against is None:
        return Combined(train, len(train))
    if not isinstance(against, Signals):
        raise DataTypeError(f"against must be a Signals object (the evaluation set), got {type(against).__name__}")
    ids_t, ids_e = train.ids, against.ids
    if not (pa.types.is_integer(ids_t.type) and pa.types.is_integer(ids_e.type)):
        ids_t, ids_e = ids_t.cast(pa.string()), ids_e.cast(pa.string())
    else:
        ids_t, ids_e = ids_t.cast(pa.int64()), ids_e.cast(pa.int64())
    text = None
    if train.text is not None and against.text is not None:
        text = pa.concat_arrays([as_text_array(train.text), as_text_array(against.text)])
    vectors = None
    if train.vectors is not None and against.vectors is not None:
        if train.vectors.shape[1] != against.vectors.shape[1]:
            raise DataError(f"the training vectors have {train.vectors.shape[1]} dimensions but the evaluation "
                             f"vectors have {against.vectors.shape[1]}; embed both with the same model")
        vectors = np.concatenate([train.vectors, against.vectors])
    scores = {k: np.concatenate([v, np.full(len(against), np.inf)]) for k, v in train.scores.items()}
    sig = Signals(pa.concat_arrays([ids_t, ids_e]), scores=scores, vectors=vectors, text=text)
    return Combined(sig, len(train))


def star_links(groups: np.ndarray, rows: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Link every row of a group to the group's lowest-rank row."""
    if rows.size < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.lexsort((rank[rows], groups))
    g, r = groups[order], rows[order]
    new = np.empty(r.size, dtype=bool)
    new[0] = True
    new[1:] = g[1:] != g[:-1]
    head = r[np.maximum.accumulate(np.where(new, np.arange(r.size), 0))]
    return r[~new].astype(np.int64), head[~new].astype(np.int64)


class BaseDedup(Declared):
    """Base of all dedup methods (estimator contract).

    Subclasses declare ``params`` (``KEEP_PARAMS`` plus their own), set ``method``
    and ``requires`` and implement ``_stages(seed)``, a list
    of ``(name, links)`` where ``links(combined, active, rank)`` returns arrays
    ``(a, b)`` of row positions to link, and ``iterate`` (bool attribute of the
    stage): repeat the stage on the rows it kept until it links nothing more.
    """

    requires: ClassVar[tuple[str, ...]] = ()
    engines: ClassVar[tuple[str, ...]] = ("local",)
    selection_: Selection
    duplicate_of_: np.ndarray

    # --- hooks -----------------------------------------------------------
    def _stages(self, seed: int) -> list[Any]:
        raise NotImplementedError

    def _requires(self) -> tuple[str, ...]:
        return self.requires

    # --- fitting ---------------------------------------------------------
    def fit(self, signals: Signals | None = None, /, *, against: Signals | None = None,
            **arrays: Any) -> BaseDedup:
        """Find duplicates in ``signals`` (or keyword arrays such as ``text=``, ``vectors=``).

        With ``against`` (the signals of an evaluation set), training rows that
        duplicate an evaluation row are dropped as ``contaminated`` and listed in
        ``overlaps_``.

        Sets ``selection_`` (a :class:`~datadiet.Selection` with extra columns
        ``duplicate_of`` and ``dup_method``), ``selected_indices_``,
        ``duplicate_of_`` (position of the kept row each row duplicates, -1 when
        kept), ``clusters_`` (number of duplicate clusters), ``overlaps_`` and
        ``seed_``. Returns ``self``.
        """
        sig = signals if signals is not None else Signals.from_arrays(**arrays)
        if not isinstance(sig, Signals):
            raise DataTypeError(f"fit takes a Signals object or keyword arrays, got {type(sig).__name__}")
        return self._fit(sig, against)

    def _fit(self, sig: Signals, against: Signals | None, stages: list[Any] | None = None,
             lengths: np.ndarray | None = None) -> BaseDedup:
        """``fit``'s work; ``stages`` (with text-free ``sig``) replaces :meth:`_stages`: the streamed
        path of ``datadiet.engine`` passes stages that read spilled keys, and ``lengths`` (characters
        of every row's text) for ``keep='longest'``."""
        full, null_rows = sig, sig.null_text_rows()
        rows = None
        if null_rows is not None:  # null text (on_null="skip"): not compared, dropped as null_text
            rows = np.setdiff1d(np.arange(len(sig)), null_rows)
            sig = sig.take(rows)
            if lengths is not None:
                lengths = lengths[rows]
        against_null = against.null_text_rows() if against is not None else None
        if against is not None and against_null is not None:
            against = against.take(np.setdiff1d(np.arange(len(against)), against_null))
        self.validate_params()
        self._check_keep()
        for s, what in ((sig, "the input"), (against, "the evaluation set (against)")):
            if s is None or stages is not None:
                continue
            for need in self._requires():
                if {"text": s.text, "vectors": s.vectors}[need] is None:
                    flag = {"text": "--text", "vectors": "--vectors or --model"}[need]
                    raise DataError(f"{type(self).__name__} needs {need} for {what}: name a column with {flag}")
            if s.text is not None:
                txt = as_text_array(s.text, "the text column")
                if txt.null_count:
                    raise DataError(f"the text column of {what} has {txt.null_count} empty (null) values; "
                                     "fill or drop them first")
        if len(sig) == 0:
            raise DataError("the input has no examples: nothing to deduplicate")
        if self.keep == "score" and self.score not in sig.scores:
            raise DataError(f"keep='score' needs the score column {self.score!r} among the signals "
                             f"(have {sorted(sig.scores) or 'none'}): name it with --score")
        seed = resolve_seed(self.seed)
        comb = _combine(sig, against)
        rank = self._rank(comb, seed, lengths)
        parent, method_code, names, metrics = self._resolve(comb, rank, seed, stages)
        self._finish(comb, parent, method_code, names, metrics, seed)
        self.selection_.info.update(full.input_info())
        if rows is not None:
            self.selection_ = self.selection_.expand(full.ids, rows, "null_text")
            self.selected_indices_ = self.selection_.indices
            dup = np.full(len(full), -1, dtype=np.int64)
            d, m = self.duplicate_of_, len(rows)
            # positions past the training rows are evaluation rows: shift them past the full input
            dup[rows] = np.where(d < 0, -1, np.where(d < m, rows[np.clip(d, 0, m - 1)], d - m + len(full)))
            self.duplicate_of_ = dup
        return self

    def _check_keep(self) -> None:
        if self.keep == "score" and not isinstance(self.score, str):
            raise ParamError("score", "the name of a score column when keep='score' (the highest is kept)",
                             self.score, type(self).__name__)

    def _rank(self, comb: Combined, seed: int, lengths: np.ndarray | None = None) -> np.ndarray:
        """Preference of every row (0 = kept first); evaluation rows come before all training rows."""
        sig, nt = comb.sig, comb.n_train
        ids = sig.ids.slice(0, nt)
        tie = tiebreak_keys(ids, seed)
        if self.keep == "first":
            order = np.arange(nt)
        elif self.keep == "random":
            order = np.argsort(uniform_keys(ids, seed), kind="stable")
        elif self.keep == "longest":
            if lengths is not None:
                length = np.asarray(lengths)[:nt]
            elif sig.text is None:
                raise DataError("keep='longest' needs the text: name a column with --text")
            else:
                length = pc.utf8_length(sig.text.slice(0, nt)).to_numpy(zero_copy_only=False)
            order = np.lexsort((tie, -length.astype(np.int64)))
        else:
            order = np.lexsort((tie, -sig.scores[self.score][:nt]))  # type: ignore[index]
        rank = np.empty(comb.n, dtype=np.int64)
        rank[order] = np.arange(nt) + (comb.n - nt)
        rank[nt:] = np.arange(comb.n - nt)
        return rank

    def _resolve(self, comb: Combined, rank: np.ndarray, seed: int, stages: list[Any] | None = None
                 ) -> tuple[np.ndarray, np.ndarray, list[str], dict[str, Any]]:
        n, nt = comb.n, comb.n_train
        parent = np.arange(n, dtype=np.int64)
        code = np.full(n, -1, dtype=np.int8)
        active = np.ones(n, dtype=bool)
        names: list[str] = []
        metrics: dict[str, Any] = {}
        for stage in self._stages(seed) if stages is None else stages:
            names.append(stage.name)
            rounds = 0
            while True:
                a, b = stage.links(comb, active, rank)
                rounds += 1
                if a.size == 0:
                    break
                contam_only = not getattr(self, "within", True) and n > nt
                dropped = self._drop(n, nt, a, b, rank, parent, contam_only)
                dropped = dropped[active[dropped]]
                if dropped.size == 0:
                    break
                active[dropped] = False
                code[dropped] = len(names) - 1
                if not getattr(stage, "iterate", False):
                    break
            metrics[f"{stage.name}_dropped"] = int((code == len(names) - 1).sum())
            metrics.update(getattr(stage, "metrics", {}))
            if rounds > 1:
                metrics[f"{stage.name}_rounds"] = rounds
        # follow chains to the row finally kept
        while True:
            nxt = parent[parent]
            if (nxt == parent).all():
                break
            parent = nxt
        return parent, code, names, metrics

    @staticmethod
    def _drop(n: int, nt: int, a: np.ndarray, b: np.ndarray, rank: np.ndarray, parent: np.ndarray,
              contam_only: bool = False) -> np.ndarray:
        """Keep the lowest-rank row of each component; point the others at it. Returns the dropped rows."""
        label = components(n, a, b)
        nodes = np.unique(np.concatenate([a, b]))
        rows, keeper = star_links(label[nodes], nodes, rank)
        drop = rows < nt  # evaluation rows are never dropped
        if contam_only:  # only rows whose cluster holds an evaluation row (its keeper)
            drop &= keeper >= nt
        parent[rows[drop]] = keeper[drop]
        return rows[drop]

    def _finish(self, comb: Combined, parent: np.ndarray, code: np.ndarray, names: list[str],
                metrics: dict[str, Any], seed: int) -> None:
        nt = comb.n_train
        ids = comb.sig.ids
        par = parent[:nt]
        dropped = par != np.arange(nt)
        contaminated = dropped & (par >= nt)
        within = getattr(self, "within", True)
        if not within and comb.n > nt:
            dropped = contaminated
        kept_idx = np.flatnonzero(~dropped)
        reason = np.where(contaminated, 1, 0).astype(np.int8)
        dup_of = pc.take(ids, pa.array(np.where(dropped, par, 0))).to_numpy(zero_copy_only=False) \
            if pa.types.is_integer(ids.type) else pc.take(ids, pa.array(np.where(dropped, par, 0)))
        dup_col = pa.array(dup_of, mask=~dropped) if isinstance(dup_of, np.ndarray) \
            else pc.if_else(pa.array(dropped), dup_of, pa.scalar(None, dup_of.type))
        meth_names = pa.array(names or [""], pa.string())
        meth_codes = pa.array(np.where(dropped, np.maximum(code[:nt], 0), 0).astype(np.int32), mask=~dropped)
        meth_col = pa.DictionaryArray.from_arrays(meth_codes, meth_names).dictionary_decode()
        metrics = {**metrics, "duplicates": int((dropped & ~contaminated).sum())}
        train_ids = ids.slice(0, nt)
        if comb.n > nt:
            metrics["contaminated"] = int(contaminated.sum())
            metrics["eval_rows_matched"] = int(np.unique(par[contaminated]).size)
            rows = np.flatnonzero(contaminated)
            self.overlaps_ = pa.table({"id": pc.take(train_ids, pa.array(rows)),
                                       "eval_id": pc.take(ids, pa.array(par[rows])),
                                       "method": pc.take(meth_col, pa.array(rows))})
        else:
            self.overlaps_ = None
        clusters = np.unique(par[dropped]).size
        metrics["clusters"] = int(clusters)
        sel = Selection.from_indices(
            train_ids, kept_idx, drop_reason=reason, reason_names=["duplicate", "contaminated"],
            method=self.method, params={**self.manifest_params(), "seed": seed}, seed=seed, metrics=metrics)
        sel.extra["duplicate_of"] = dup_col
        sel.extra["dup_method"] = meth_col
        self.selection_ = sel
        self.selected_indices_ = sel.indices
        self.duplicate_of_ = np.where(dropped, par, -1)
        self.clusters_ = int(clusters)
        self.seed_ = seed

