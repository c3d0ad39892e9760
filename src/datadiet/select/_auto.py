"""``auto``: a stratified random floor; prototypes at tiny budgets only where a check says they help."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from datadiet._core import derived_seed, register
from datadiet._core._allocate import round_preserving_sum
from datadiet._core._hashing import uniform_keys
from datadiet.select._base import BUDGETED, Picked, Target
from datadiet.select._clusterability import cluster_stability
from datadiet.select._embed_base import METRIC, NITER, EmbeddingSelector
from datadiet.select._prototypes import PrototypeSelector
from datadiet.signals._table import Signals

__all__ = ["AutoSelector", "auto_rule", "auto_candidates"]

#: Budget fraction below which ``auto`` tries prototypes.
PROTOTYPE_BELOW = 0.02
#: Label-free: k-means restart agreement (adjusted Rand) at or above which prototypes are used.
STABILITY_AT_LEAST = 0.5
FLOOR = ("stratified-random", {"strata": "group, k-means cluster", "allocation": "proportional (systematic)"})
#: Classic k-means prototypes: one cluster per kept row, the row nearest each centroid.
PROTOTYPES = ("prototypes", {"keep": "easy", "rows_per_cluster": 1})
#: Fewer, larger clusters, each keeping its rows nearest the centroid in proportion to its size.
PROTOTYPES_3 = ("prototypes", {"keep": "easy", "rows_per_cluster": 3, "allocation": "cluster size"})


def auto_rule(fraction: float, grouped: bool = False, stability: float | None = None) -> tuple[str, dict[str, Any]]:
    """The first method ``auto`` tries for a budget that is ``fraction`` of the data.

    * the floor, always available: ``stratified-random``, a random sample keyed by
      ``(seed, id)`` with the budget split across groups (when given) and k-means
      clusters in proportion to their size (a systematic sample of the rows in
      (group, cluster, key) order, so every row has the same chance). In expectation
      it trains as well as a uniform random sample, with less variance.
    * ``fraction < 2%`` without groups: ``prototypes`` (one cluster per kept row, the
      row nearest each centroid) when the vectors form clusters, i.e. when
      ``stability`` (:func:`~datadiet.select._clusterability.cluster_stability`, the
      agreement of k-means restarts) is at least 0.5; otherwise the floor. Typical
      examples help where classes follow clusters (image features, news topics) and
      hurt on a continuum (sentence embeddings of short reviews: -6.45 points at 1%).
    * ``fraction < 2%`` with groups (``--label``/``--group``): ``prototypes`` inside each
      group, checked against the floor by a nearest-class-mean classifier (see
      :class:`AutoSelector` and :func:`auto_candidates`).

    Examples
    --------
    >>> auto_rule(0.001)[0], auto_rule(0.001, stability=0.7)[0], auto_rule(0.1, grouped=True)[0]
    ('stratified-random', 'prototypes', 'stratified-random')
    """
    if fraction < PROTOTYPE_BELOW and (grouped or (stability is not None and stability >= STABILITY_AT_LEAST)):
        return PROTOTYPES[0], dict(PROTOTYPES[1])
    return FLOOR[0], dict(FLOOR[1])


def auto_candidates(fraction: float, grouped: bool) -> list[tuple[str, dict[str, Any]]]:
    """What the labelled check compares with the floor: none at 2% and above, else two prototype variants.

    Examples
    --------
    >>> [p["rows_per_cluster"] for _, p in auto_candidates(0.01, True)], auto_candidates(0.05, True)
    ([1, 3], [])
    """
    if not grouped or fraction >= PROTOTYPE_BELOW:
        return []
    return [(PROTOTYPES[0], dict(PROTOTYPES[1])), (PROTOTYPES_3[0], dict(PROTOTYPES_3[1]))]


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
    """Stratified random sample by default; prototypes at tiny budgets where a check says they help.

    The budget is split across groups (``--label``/``--group``) in proportion to
    their size, then inside each group by :func:`auto_rule`. Below 2% of the data:
    without groups, prototypes are used when k-means restarts agree (the vectors
    form clusters, :func:`~datadiet.select._clusterability.cluster_stability`);
    with groups, the floor and two prototype variants (:func:`auto_candidates`) are
    computed and the one whose nearest-class-mean classifier is most accurate on
    the rows it did not pick is kept (ties keep the floor). ``metrics["auto"]``
    records the rule chosen, why, the statistic or check scores, and the seconds
    the decision took.

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

    def _run(self, params: dict[str, Any], sig: Signals, groups: np.ndarray, quota: np.ndarray,
             grouped: bool, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Prototypes inside every group with a positive quota: one cluster per ``rows_per_cluster`` kept rows."""
        assert sig.vectors is not None
        per = int(params["rows_per_cluster"])
        chosen, labels, offset = [], np.zeros(len(sig), dtype=np.int64), 0
        for g in np.flatnonzero(quota):
            rows = np.flatnonzero(groups == g)
            sub = sig if not grouped else Signals.from_arrays(sig.ids.take(rows), vectors=sig.vectors[rows])
            q = int(quota[g])
            kw: dict[str, Any] = {"per_cluster": 1} if per == 1 else {"n_clusters": max(1, -(-q // per))}
            inner = PrototypeSelector(budget=q, metric=self.metric, niter=self.niter, seed=seed, keep="easy",
                                      spread_power=0.0, **kw).fit(sub)
            cl = np.asarray(inner.selection_.extra["cluster"], dtype=np.int64)
            labels[rows] = cl + offset
            offset += int(cl.max()) + 1 if len(cl) else 0
            chosen.append(rows[inner.selected_indices_])
        return np.concatenate(chosen), labels

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        assert sig.vectors is not None
        t0 = time.perf_counter()
        n = len(sig)
        total = int(target.examples or n)
        grouped = sig.groups is not None and len(sig.group_names) > 1
        groups = sig.groups if grouped else np.zeros(n, dtype=np.int32)
        assert groups is not None
        sizes = np.bincount(groups)
        quota = round_preserving_sum(sizes * (total / n), sizes)
        fraction = total / n
        chosen, labels = self._floor(sig, groups, total, seed)
        name, params = FLOOR[0], dict(FLOOR[1])
        info: dict[str, Any] = {"fraction": round(fraction, 6), "stratified_by_group": bool(grouped)}
        if fraction >= PROTOTYPE_BELOW:
            info["why"] = "budget >= 2%: stratified random floor (nothing measured beats random there)"
        elif not grouped:
            stab = cluster_stability(sig.vectors, sig.ids, self.metric, seed, self.niter)
            info["clusterability"] = {**stab, "at_least": STABILITY_AT_LEAST}
            name, params = auto_rule(fraction, False, stab["stability"])
            if name == FLOOR[0]:
                info["why"] = (f"budget < 2%, no labels: k-means restarts agree {stab['stability']:.3f} < "
                               f"{STABILITY_AT_LEAST} (no clear clusters): stratified random floor")
            else:
                chosen, labels = self._run(params, sig, groups, quota, grouped, seed)
                info["why"] = (f"budget < 2%, no labels: k-means restarts agree {stab['stability']:.3f} >= "
                               f"{STABILITY_AT_LEAST} (the vectors form clusters): prototypes")
        else:
            check = {"floor": centroid_check(sig.vectors, groups, chosen, self.metric)}
            best = check["floor"]
            for cand, cparams in auto_candidates(fraction, grouped):
                picked, plabels = self._run(cparams, sig, groups, quota, grouped, seed)
                score = centroid_check(sig.vectors, groups, picked, self.metric)
                check[f"{cand}-{cparams['rows_per_cluster']}"] = score
                if score > best:
                    best, chosen, labels, name, params = score, picked, plabels, cand, cparams
            info["check"] = {k: round(v, 6) for k, v in check.items()}
            info["why"] = ("budget < 2% with labels: " + (
                f"prototypes ({params['rows_per_cluster']} per cluster) beat the floor on the nearest-class-mean "
                "check" if name != FLOOR[0] else "no prototypes beat the floor on the nearest-class-mean check; "
                "floor kept"))
        info["decision_seconds"] = round(time.perf_counter() - t0, 3)
        self.chosen_method_ = name
        out = self._finish(sig, chosen, seed, None, labels=labels)
        out.metrics["auto"] = {"method": name, "params": params, **info}
        return out
