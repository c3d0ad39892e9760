"""The signal table: everything known about the examples, keyed by id."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datadiet._core._errors import DataError, DataTypeError
from datadiet.io._ids import check_unique

__all__ = ["Signals", "Columns", "ClusterSignal", "MinHashSignal", "input_info", "DEFAULT_COLUMNS", "NULL_POLICIES",
           "check_on_null"]

#: What to do with rows whose text is null: leave them out of the selection with reason
#: ``null_text`` (``skip``), read them as ``""`` (``empty``), or stop (``error``).
NULL_POLICIES = ("skip", "empty", "error")


def check_on_null(value: Any) -> str:
    """``value`` if it is a null-text policy, else a one-line error."""
    if value not in NULL_POLICIES:
        raise DataError(f"on_null must be one of {', '.join(map(repr, NULL_POLICIES))}; got {value!r}")
    return str(value)


#: Roles filled from a column of this name when the input has one and the role was not named
#: (as datatrove and Hugging Face ``datasets`` users expect).
DEFAULT_COLUMNS = {"id": "id", "text": "text"}


@dataclass(frozen=True)
class ClusterSignal:
    """A stored k-means clustering of the vectors (``datadiet cluster``) and the parameters that made it.

    Selectors use it instead of clustering again when ``params`` (``k``,
    ``metric``, ``seed``, ``niter``) equal what they would compute.
    """

    labels: np.ndarray
    distances: np.ndarray
    centroids: np.ndarray
    params: dict[str, Any]

    def take(self, idx: np.ndarray) -> ClusterSignal:
        return ClusterSignal(self.labels[idx], self.distances[idx], self.centroids,
                             {**self.params, "rows": "subset"})


@dataclass(frozen=True)
class MinHashSignal:
    """MinHash signatures of the text (and shingle counts) with the parameters that made them."""

    params: dict[str, Any]
    signatures: np.ndarray
    counts: np.ndarray

    def take(self, idx: np.ndarray) -> MinHashSignal:
        return MinHashSignal(self.params, self.signatures[idx], self.counts[idx])


@dataclass(frozen=True)
class Columns:
    """Which input column plays which role (all optional)."""

    id: str | None = None
    text: str | None = None
    label: str | None = None
    group: str | None = None
    scores: tuple[str, ...] = ()
    vectors: str | None = None
    tokens: str | None = None
    #: rows whose text is null: ``skip`` (reason ``null_text``), ``empty`` or ``error`` (see NULL_POLICIES)
    on_null: str = "skip"

    def needed(self) -> list[str]:
        cols = [self.id, self.text, self.label, self.group, *self.scores, self.vectors, self.tokens]
        return list(dict.fromkeys(c for c in cols if c))

    def as_dict(self) -> dict[str, Any]:
        """The named roles (the null policy is recorded under the manifest's ``read``)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()
                if v and k != "on_null"}

    def with_defaults(self, names: Any) -> tuple[Columns, list[str]]:
        """These columns with ``id`` / ``text`` filled from columns so named, when present and not named.

        ``names`` are the input's column names. Returns the columns and the roles filled.

        Examples
        --------
        >>> cols, filled = Columns(group="topic").with_defaults(["id", "text", "topic"])
        >>> cols.as_dict(), filled
        ({'id': 'id', 'text': 'text', 'group': 'topic'}, ['id', 'text'])
        >>> Columns(text="body").with_defaults(["id", "text", "body"])[1]
        ['id']
        """
        have = set(names)
        used = set(self.needed())
        fill: dict[str, Any] = {role: col for role, col in DEFAULT_COLUMNS.items()
                if getattr(self, role) is None and col in have and col not in used}
        return (replace(self, **fill) if fill else self), list(fill)


@dataclass
class Signals:
    """Columns of per-example signals aligned with ``ids``.

    Parameters
    ----------
    ids : pyarrow.Array
        Stable ids (int64 or string).
    tokens : ndarray of int64, optional
        Token count per example.
    groups : ndarray of int32, optional
        Group code per example, indexing ``group_names``.
    group_names : list of str
    scores : dict of str -> ndarray of float64
    vectors : ndarray of shape (n, d), optional
    text : pyarrow.Array, optional
    fingerprint : str, optional
        Fingerprint of the input the signals were read from.
    clusters : ClusterSignal, optional
        A stored clustering of ``vectors``.
    minhash : MinHashSignal, optional
        Precomputed MinHash signatures of ``text``.
    null_text : ndarray of bool, optional
        Rows whose text was null, to leave out (``Columns.on_null="skip"``).
    origin : dict
        What a manifest records about the input besides its fingerprint: ``input``
        (the path), ``columns``, ``columns_defaulted``, ``read`` (see :func:`input_info`).

    Examples
    --------
    >>> s = Signals.from_arrays(groups=["a", "b", "a"])
    >>> s.group_names, s.groups.tolist()
    (['a', 'b'], [0, 1, 0])
    """

    ids: pa.Array
    tokens: np.ndarray | None = None
    groups: np.ndarray | None = None
    group_names: list[str] = field(default_factory=list)
    scores: dict[str, np.ndarray] = field(default_factory=dict)
    vectors: np.ndarray | None = None
    text: pa.Array | None = None
    fingerprint: str | None = None
    clusters: ClusterSignal | None = None
    minhash: MinHashSignal | None = None
    null_text: np.ndarray | None = None
    origin: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def null_text_rows(self) -> np.ndarray | None:
        """Positions of the rows left out for null text (``on_null="skip"``), or ``None``."""
        mask = self.null_text
        if mask is None or not np.any(mask):
            return None
        return np.flatnonzero(mask)

    def input_info(self) -> dict[str, Any]:
        """What a manifest records about where these signals came from (see :func:`input_info`)."""
        return input_info(self)

    def take(self, indices: Any) -> Signals:
        """The signals of the rows at ``indices`` (e.g. what a first method kept).

        Examples
        --------
        >>> s = Signals.from_arrays(groups=["a", "b", "a"], scores={"q": [1.0, 2.0, 3.0]})
        >>> t = s.take([1, 2])
        >>> t.ids.to_pylist(), t.groups.tolist(), t.scores["q"].tolist()
        ([1, 2], [1, 0], [2.0, 3.0])
        """
        idx = np.asarray(indices, dtype=np.int64)
        pick = pa.array(idx)
        return Signals(
            ids=self.ids.take(pick),
            tokens=None if self.tokens is None else self.tokens[idx],
            groups=None if self.groups is None else self.groups[idx],
            group_names=list(self.group_names),
            scores={k: v[idx] for k, v in self.scores.items()},
            vectors=None if self.vectors is None else self.vectors[idx],
            text=None if self.text is None else self.text.take(pick),
            fingerprint=self.fingerprint,
            clusters=None if self.clusters is None else self.clusters.take(idx),
            minhash=None if self.minhash is None else self.minhash.take(idx),
            null_text=None if self.null_text is None else self.null_text[idx],
        )  # no origin: a subset is not the input a manifest could name

    @classmethod
    def from_arrays(
        cls,
        ids: Any = None,
        *,
        tokens: Any = None,
        groups: Any = None,
        scores: Mapping[str, Any] | Any = None,
        vectors: Any = None,
        text: Any = None,
    ) -> Signals:
        """Build signals from plain arrays; ids default to row numbers.

        Rows whose text is null are left out of selections and dedup with reason ``null_text``
        (the default ``on_null="skip"`` of :class:`Columns`); fill them first to keep them.
        """
        lengths = {
            k: len(v)
            for k, v in {"ids": ids, "tokens": tokens, "groups": groups, "vectors": vectors, "text": text}.items()
            if v is not None
        }
        if isinstance(scores, Mapping):
            lengths.update({f"scores[{k}]": len(v) for k, v in scores.items()})
        elif scores is not None:
            lengths["scores"] = len(scores)
        if len(set(lengths.values())) > 1:
            raise DataError(f"signals must have one value per example; lengths differ: {lengths}")
        n = next(iter(lengths.values()), 0)
        if ids is None:
            id_arr = pa.array(np.arange(n, dtype=np.int64))
        elif isinstance(ids, (pa.Array, pa.ChunkedArray)):
            id_arr = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
        else:
            a = np.asarray(ids)
            if a.dtype.kind in "iu":
                id_arr = pa.array(a.astype(np.int64))
            else:  # strings; a None stays null (refused when hashed)
                id_arr = pa.array([None if x is None else str(x) for x in a], pa.string())
        if ids is not None:
            check_unique(id_arr, None, python="ids")
        group_codes: np.ndarray | None = None
        names: list[str] = []
        if groups is not None:
            group_codes, names = encode_groups(groups)
        if scores is not None and not isinstance(scores, Mapping):
            scores = {"score": scores}
        score_arrays = {k: _float_array(v, f"score {k!r}") for k, v in (scores or {}).items()}
        tok = None if tokens is None else _token_array(tokens)
        vec = None if vectors is None else np.ascontiguousarray(vectors, dtype=np.float32)
        if vec is not None and vec.ndim != 2:
            raise DataError(f"vectors must be a 2-D array (n, d), got shape {vec.shape}")
        if isinstance(text, pa.ChunkedArray):  # a table's column: no round trip through Python strings
            text = text.combine_chunks()
        txt = None if text is None else (text if isinstance(text, pa.Array) else pa.array(list(text), pa.string()))
        null = None
        if txt is not None and txt.null_count:  # the default null-text policy, "skip", as load_signals applies it
            null = txt.is_null().to_numpy(zero_copy_only=False)
            txt = txt.fill_null("")
        return cls(id_arr, tok, group_codes, names, score_arrays, vec, txt, null_text=null)


def encode_groups(groups: Any) -> tuple[np.ndarray, list[str]]:
    """Integer codes and names (sorted) for a group column."""
    if isinstance(groups, (pa.Array, pa.ChunkedArray)):
        if groups.null_count:
            raise DataError(f"the group column has {groups.null_count} empty (null) values; fill them first")
        # chunk by chunk (no combined copy of the strings): provisional codes in order of first
        # appearance, then renumbered in sorted-name order
        chunks = groups.chunks if isinstance(groups, pa.ChunkedArray) else [groups]
        out = np.empty(len(groups), dtype=np.int32)
        seen: dict[str, int] = {}
        at = 0
        for chunk in chunks:
            if len(chunk) == 0:
                continue
            enc = pc.dictionary_encode(chunk.cast(pa.string()))
            local = np.array([seen.setdefault(str(x), len(seen)) for x in enc.dictionary.to_pylist()],
                             dtype=np.int32)
            out[at:at + len(chunk)] = local[enc.indices.to_numpy(zero_copy_only=False)]
            at += len(chunk)
        raw_names = np.asarray(list(seen), dtype=str) if seen else np.zeros(0, dtype=str)
        order = np.argsort(raw_names, kind="stable")
        remap = np.empty(len(order), dtype=np.int32)
        remap[order] = np.arange(len(order), dtype=np.int32)
        for s in range(0, len(out), 1 << 20):
            out[s:s + (1 << 20)] = remap[out[s:s + (1 << 20)]]
        return out, [str(x) for x in raw_names[order]]
    arr = np.asarray(groups)
    missing = sum(x is None for x in arr.ravel()) if arr.dtype == object else \
        int(np.isnan(arr).sum()) if arr.dtype.kind == "f" else 0
    if missing:
        raise DataError(f"the group column has {missing} empty (null) values; fill them first")
    if arr.dtype == object:
        arr = arr.astype(str)
    names, inverse = np.unique(arr, return_inverse=True)
    return inverse.astype(np.int32), [str(x) for x in names]


def _float_array(v: Any, what: str) -> np.ndarray:
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataTypeError(f"{what} must hold numbers") from None
    if np.isnan(a).any():
        raise DataError(f"{what} has {int(np.isnan(a).sum())} missing (NaN) values; fill or drop them first")
    return a


def _token_array(v: Any) -> np.ndarray:
    a = np.asarray(v)
    if a.dtype.kind not in "iuf" or (a < 0).any():
        raise DataError("token counts must be non-negative numbers")
    if a.dtype.kind == "f":  # a float column (pandas makes one of integers with gaps): whole, finite values only
        if not np.isfinite(a).all():
            raise DataError(f"token counts have {int((~np.isfinite(a)).sum())} missing (NaN) or infinite values; "
                            "fill or drop them first")
        frac = np.flatnonzero(a != np.floor(a))
        if frac.size:
            raise DataError(f"token counts must be whole numbers; row {int(frac[0])} has {a[frac[0]]}; round them first")
    return a.astype(np.int64)


def input_info(sig: Signals) -> dict[str, Any]:
    """Manifest fields about the input: ``input`` (the path, when read from files), ``input_fingerprint``,
    ``columns`` and ``read`` (encoding and null policies), as far as ``sig`` knows them.

    :func:`~datadiet.load_signals` records them, so a selection made in Python from a path can be
    applied and reported without restating its columns.
    """
    out: dict[str, Any] = {k: v for k, v in sig.origin.items() if v is not None}
    if sig.fingerprint is not None:
        out["input_fingerprint"] = sig.fingerprint
    return out
