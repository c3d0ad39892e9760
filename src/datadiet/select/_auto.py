"""``auto``: a stratified random sample as the floor, prototypes only where a labelled check says they help."""

from __future__ import annotations

from typing import Any

import numpy as np

from datadiet._core import derived_seed, register
from datadiet._core._allocate import round_preserving_sum
from datadiet._core._hashing import uniform_keys
from datadiet.select._base import BUDGETED, Picked, Target
from datadiet.select._embed_base import METRIC, NITER, EmbeddingSelector
from datadiet.select._prototypes import PrototypeSelector
from datadiet.signals._table import Signals

__all__ = ["AutoSelector", "auto_rule"]

#: Budget fraction below which ``auto`` tries prototypes (only when groups/labels are given).
PROTOTYPE_BELOW = 0.02
FLOOR = ("stratified-random", {"strata": "group, k-means cluster", "allocation": "proportional (systematic)"})
PROTOTYPES = ("prototypes", {"keep": "easy", "per_cluster": 2, "spread_power": 0.0})


def auto_rule(fraction: float, grouped: bool = False) -> tuple[str, dict[str, Any]]:
    """The method ``auto`` tries for a budget that is ``fraction`` of the data.

    * the floor, always available: ``stratified-random``, a random sample keyed by
      ``(seed, id)`` with the budget split across groups (when given) and k-means
      clusters in proportion to their size (a systematic sample of the rows in
      (group, cluster, key) order, so every row has the same chance). In expectation
      it trains as well as a uniform random sample, with less variance.
    * ``fraction < 2%`` **and** groups (``--label``/``--group``) given:
      ``prototypes`` (two typical examples per k-means cluster inside each group)
      is tried as well and kept only if a nearest-class-mean check on the rows not
      picked scores at least as well as the floor's sample (see
      :class:`AutoSelector`). Typical examples help on image features and hurt on
      sentence embeddings of short reviews (issue 14); without labels nothing can
      tell which, so label-free ``auto`` keeps the floor.

    Examples
    --------
    >>> auto_rule(0.001)[0], auto_rule(0.001, grouped=True)[0], auto_rule(0.1, grouped=True)[0]
    ('stratified-random', 'prototypes', 'stratified-random')
    """
    if grouped and fraction < PROTOTYPE_BELOW:
        return PROTOTYPES[0], dict(PROTOTYPES[1])
    return FLOOR[0], dict(FLOOR[1])


def centroid_check(x: np.ndarray, y: np.ndarray, picked: np.ndarray, metric: str, block: int = 65536) -> float:
    """Accuracy, on the rows not in ``picked``, of the nearest class mean built from ``picked`` (blocks of rows)."""
    classes = np.unique(y[picked])
    means = np.stack([x[picked[y[picked] == c]].mean(0) for c in classes]).astype(np.float32)
    if metric == "cosine":
        means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
    sq = (means.astype(np.float64) ** 2).sum(1)
    rest = np.ones(len(x), bool)
    rest[picked] = False
    hits = total = 0
    for s in range(0, len(x), block):
        m = rest[s:s + block]
        xb = np.asarray(x[s:s + block][m], dtype=np.float32)
        score = xb @ means.T if metric == "cosine" else 2 * (xb @ means.T) - sq  # larger is nearer
        hits += int((classes[score.argmax(1)] == y[s:s + block][m]).sum())
        total += int(m.sum())
    return hits / max(total, 1)


@register("select")
class AutoSelector(EmbeddingSelector):
    """Stratified random sample by default; prototypes when labels are given, the budget is tiny and they check out.

    The budget is split across groups (``--label``/``--group``) in proportion to
    their size, then inside each group by :func:`auto_rule`. When the rule offers
    prototypes, both they and the floor are computed and the one whose
    nearest-class-mean classifier is more accurate on the rows it did not pick is
    kept (ties keep the floor). ``metrics["auto"]`` records the rule chosen, why,
    and both check scores.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(1000, 4))
    >>> sel = AutoSelector(budget=5).fit(vectors=x)
    >>> sel.chosen_method_, len(sel.selected_indices_)
    ('stratified-random', 5)
    """

    method = "auto"
    n_clusters = "auto"

    params = (*BUDGETED, METRIC, NITER)

    def _floor(self, sig: Signals, groups: np.ndarray, total: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Systematic sample of the rows ordered by (group, k-means cluster, ``(seed, id)`` key).

        Every row is kept with probability ``total / n`` (so the sample trains as well as a
        uniform one in expectation) and every group and cluster gets the floor or ceiling of its
        proportional share (so it varies less). Deterministic rounding of small per-cluster
        shares is not used: it favours small clusters when the budget is near the number of
        clusters (5 points below random on Fashion-MNIST at 0.1%).
        """
        res = self._clusters(sig, seed)
        if total <= 0:
            return np.zeros(0, np.int64), np.asarray(res.labels, dtype=np.int64)
        order = np.lexsort((self._keys(sig, seed), res.labels, groups))
        step = len(sig) / total
        start = float(uniform_keys(np.zeros(1, np.int64), derived_seed(seed, "auto-floor"))[0]) * step
        pos = np.minimum(np.floor(start + step * np.arange(total)).astype(np.int64), len(sig) - 1)
        return order[pos], np.asarray(res.labels, dtype=np.int64)

    def _run(self, name: str, params: dict[str, Any], sig: Signals, groups: np.ndarray, quota: np.ndarray,
             grouped: bool, seed: int) -> tuple[np.ndarray, np.ndarray]:
        assert sig.vectors is not None
        chosen, labels, offset = [], np.zeros(len(sig), dtype=np.int64), 0
        for g in np.flatnonzero(quota):
            rows = np.flatnonzero(groups == g)
            sub = sig if not grouped else Signals.from_arrays(sig.ids.take(rows), vectors=sig.vectors[rows])
            inner = PrototypeSelector(budget=int(quota[g]), metric=self.metric, niter=self.niter, seed=seed, **params).fit(sub)
            cl = np.asarray(inner.selection_.extra["cluster"], dtype=np.int64)
            labels[rows] = cl + offset
            offset += int(cl.max()) + 1 if len(cl) else 0
            chosen.append(rows[inner.selected_indices_])
        return np.concatenate(chosen), labels

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        assert sig.vectors is not None
        n = len(sig)
        total = int(target.examples or n)
        grouped = sig.groups is not None and len(sig.group_names) > 1
        groups = sig.groups if grouped else np.zeros(n, dtype=np.int32)
        assert groups is not None
        sizes = np.bincount(groups)
        quota = round_preserving_sum(sizes * (total / n), sizes)
        name, params = auto_rule(total / n, grouped)
        chosen, labels = self._floor(sig, groups, total, seed)
        info: dict[str, Any] = {"fraction": round(total / n, 6), "stratified_by_group": bool(grouped)}
        if name == FLOOR[0]:
            info["why"] = ("labels/groups given, budget >= 2%: stratified random floor" if grouped else
                           "no labels/groups: stratified random floor (prototypes cannot be checked without labels)")
        else:
            proto, proto_labels = self._run(name, params, sig, groups, quota, grouped, seed)
            s_floor = centroid_check(sig.vectors, groups, chosen, self.metric)
            s_proto = centroid_check(sig.vectors, groups, proto, self.metric)
            info["check"] = {"floor": round(s_floor, 6), "prototypes": round(s_proto, 6)}
            if s_proto > s_floor:
                chosen, labels = proto, proto_labels
                info["why"] = "budget < 2% with labels: prototypes beat the floor on the nearest-class-mean check"
            else:
                name, params = FLOOR[0], dict(FLOOR[1])
                info["why"] = "budget < 2% with labels: prototypes did not beat the floor on the check; floor kept"
        self.chosen_method_ = name
        out = self._finish(sig, chosen, seed, None, labels=labels)
        out.metrics["auto"] = {"method": name, "params": params, **info}
        return out
