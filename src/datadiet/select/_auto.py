"""``auto``: a stratified random floor; prototypes or kernel herding at tiny budgets where a check says they help."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from datadiet._core import derived_seed, register
from datadiet._core._allocate import allocate, round_preserving_sum
from datadiet._core._hashing import uniform_keys
from datadiet._core._rows import unit_rows
from datadiet.index._kmeans import kmeans, row_hashes
from datadiet.select._base import BUDGETED, Picked, Target
from datadiet.select._clusterability import cluster_stability
from datadiet.select._embed_base import (
    METRIC,
    NITER,
    EmbeddingSelector,
    exact_distances,
    rank_within,
)
from datadiet.select._herding import PARTITION_SIZE, herd_groups, herding_work
from datadiet.select._linear_probe import probe_check
from datadiet.signals._table import Signals

__all__ = ["AutoSelector", "auto_rule", "auto_candidates"]

#: Budget fraction below which ``auto`` tries prototypes.
PROTOTYPE_BELOW = 0.02
#: Label-free: k-means restart agreement (adjusted Rand) at or above which prototypes are used.
STABILITY_AT_LEAST = 0.5
UNIFORM = ("random", {"keys": "(seed, id)"})
#: Label-free, no clusters, budget >= TRIM_FROM: random among the rows left after trimming the most typical and the outliers.
DROP_TYPICAL, DROP_OUTLIERS, TRIM_FROM = 0.25, 0.05, 0.01
TRIMMED = ("trimmed-random", {"keys": "(seed, id)", "drop_typical": DROP_TYPICAL, "drop_outliers": DROP_OUTLIERS})
FLOOR = ("stratified-random", {"strata": "group, k-means cluster", "allocation": "proportional (systematic)"})
#: Prototype k-means: at least this many iterations ...
PROTOTYPE_NITER = 50
#: ... fitted on at least this many rows (or all of them) ...
PROTOTYPE_TRAIN = 65536
#: ... from up to this many initialisations, the lowest inertia kept, ...
PROTOTYPE_RESTARTS = 10
#: ... as many as fit in this many multiply-adds of training (about a second here; 8 restarts of 60
#: clusters on 60,000 x 64 took 5.3 s more per selection with no gain on Fashion-MNIST at 0.1%).
RESTART_WORK = 2e10
#: Classic k-means prototypes: one cluster per kept row, the row nearest each centroid.
PROTOTYPES = ("prototypes", {"keep": "easy", "rows_per_cluster": 1})
#: Fewer, larger clusters, each keeping its rows nearest the centroid in proportion to its size.
PROTOTYPES_3 = ("prototypes", {"keep": "easy", "rows_per_cluster": 3, "allocation": "cluster size"})
#: Kernel herding inside every group: a sample whose kernel mean matches the group's.
HERDING = ("herding", {"bandwidth": 0.5})
#: The herding candidate is skipped above this many multiply-adds (15 to 40 s on one 2-core machine) ...
HERDING_MAX_WORK = 4e11
#: ... after its partitions shrink towards this many rows to fit (at 1% of Fashion-MNIST by class, partitions of
#: 1,024 rows instead of one per class: +2.88 instead of +3.10 points over random, 5 seeds).
HERDING_MIN_PARTITION = 1024


def auto_rule(fraction: float, grouped: bool = False, stability: float | None = None) -> tuple[str, dict[str, Any]]:
    """The first method ``auto`` tries for a budget that is ``fraction`` of the data.

    * no groups and the vectors do not form clusters (``stability`` of
      :func:`~datadiet.select._clusterability.cluster_stability`, the agreement of
      k-means restarts, below 0.5, or not measured): below 1%, ``random``, a uniform
      sample, the same rows as ``RandomSelector`` with the same seed (cluster strata
      of a continuum are arbitrary); from 1%, ``trimmed-random``, a uniform sample of
      the rows left after setting aside the 25% most typical (nearest the mean
      direction: redundant, as SSL-prototype pruning finds) and the 5% least typical
      (outliers); set-aside rows fill only a budget larger than the rest.
    * otherwise, ``fraction >= 2%``: the floor, ``stratified-random``, a random
      sample keyed by ``(seed, id)`` with the budget split across groups (when
      given) and k-means clusters in proportion to their size (a systematic sample
      of the rows in (group, cluster, key) order, so every row has the same
      chance). In expectation it trains as well as a uniform random sample. With
      groups, the linear-probe check compares it with kernel herding inside each
      group.
    * otherwise (``fraction < 2%``): ``prototypes``, one k-means cluster per kept row
      and the row nearest each centroid. Typical examples help where classes follow
      clusters (image features, news topics) and hurt on a continuum (sentence
      embeddings of short reviews: -6.45 points at 1%). With groups
      (``--label``/``--group``) they are computed inside each group and a
      linear-probe check chooses between them, a second prototype variant, kernel
      herding and the floor (see :class:`AutoSelector` and :func:`auto_candidates`).

    Examples
    --------
    >>> auto_rule(0.001)[0], auto_rule(0.05)[0], auto_rule(0.001, stability=0.7)[0], auto_rule(0.1, grouped=True)[0]
    ('random', 'trimmed-random', 'prototypes', 'stratified-random')
    """
    if not grouped and (stability is None or stability < STABILITY_AT_LEAST):
        rule = UNIFORM if fraction < TRIM_FROM else TRIMMED
        return rule[0], dict(rule[1])
    if fraction < PROTOTYPE_BELOW:
        return PROTOTYPES[0], dict(PROTOTYPES[1])
    return FLOOR[0], dict(FLOOR[1])


def auto_candidates(fraction: float, grouped: bool) -> list[tuple[str, dict[str, Any]]]:
    """What the labelled check compares with the floor: herding, and below 2% two prototype variants too.

    Examples
    --------
    >>> [candidate_name(*c) for c in auto_candidates(0.01, True)], [candidate_name(*c) for c in auto_candidates(0.05, True)]
    (['prototypes-1', 'prototypes-3', 'herding'], ['herding'])
    """
    if not grouped:
        return []
    return [(m, dict(p)) for m, p in ((PROTOTYPES, PROTOTYPES_3, HERDING) if fraction < PROTOTYPE_BELOW else (HERDING,))]


def typicality(vectors: Any, metric: str, block: int = 65536) -> np.ndarray:
    """How typical each row is: cosine to the mean direction (``"cosine"``), minus distance to the mean (``"l2"``).

    Examples
    --------
    >>> typicality(np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]]), "cosine").argmin()
    np.int64(2)
    """
    n = len(vectors)

    def rows(s: int) -> np.ndarray:
        v = np.asarray(vectors[s:s + block], dtype=np.float64)
        if metric == "cosine":
            unit_rows(v)
        return v

    mean = sum((rows(s).sum(0) for s in range(0, n, block)), np.zeros(vectors.shape[1])) / max(n, 1)
    if metric == "cosine":
        mean /= max(float(np.linalg.norm(mean)), 1e-12)
        return np.concatenate([rows(s) @ mean for s in range(0, n, block)])
    return -np.concatenate([np.linalg.norm(rows(s) - mean, axis=1) for s in range(0, n, block)])


def prototype_restarts(rows: int, k: int, dim: int, niter: int) -> int:
    """k-means initialisations for label-free prototypes: up to 10, as many as fit in :data:`RESTART_WORK` multiply-adds.

    Few clusters on little data vary most between initialisations, and cost least
    (BBC News at 1%, label-free: 18 clusters of 1,778 rows; +8.4 points over one run, 40 seeds).

    Examples
    --------
    >>> prototype_restarts(1778, 18, 384, 50), prototype_restarts(60000, 600, 64, 50)
    (10, 1)
    """
    return int(min(PROTOTYPE_RESTARTS, max(1, RESTART_WORK // (float(rows) * k * dim * niter))))


def candidate_name(method: str, params: dict[str, Any]) -> str:
    """How the check names a candidate: the method, and the rows per cluster for prototypes."""
    return f"{method}-{params['rows_per_cluster']}" if "rows_per_cluster" in params else method


@register("select")
class AutoSelector(EmbeddingSelector):
    """Stratified random sample by default; prototypes at tiny budgets where a check says they help.

    The budget is split across groups (``--label``/``--group``) in proportion to
    their size, then inside each group by :func:`auto_rule`. Below 2% of the data:
    without groups, prototypes are used when k-means restarts agree (the vectors
    form clusters, :func:`~datadiet.select._clusterability.cluster_stability`),
    and a random sample otherwise (trimmed of the most and least typical rows from
    1%); with groups, the floor, two prototype variants and kernel herding
    (:func:`auto_candidates`; from 2%, the floor and herding) are computed and the
    one whose linear probe (softmax regression trained on it,
    :func:`~datadiet.select._linear_probe.probe_check`) is most accurate on the rows
    no candidate picked is kept (ties keep the floor). ``metrics["auto"]``
    records the rule chosen, why, the statistic or check scores, and the seconds
    the check and the selection took.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(1000, 4))
    >>> sel = AutoSelector(budget=5).fit(vectors=x)  # a Gaussian cloud: no clusters
    >>> sel.chosen_method_, len(sel.selected_indices_)
    ('random', 5)
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

    def _typical(self, sig: Signals, rows: np.ndarray, quota: int, per: int, seed: int,
                 restart: bool) -> tuple[np.ndarray, np.ndarray]:
        """The ``quota`` rows of ``rows`` nearest their k-means centroid, ``ceil(quota / per)`` clusters.

        One row per cluster when ``per == 1`` (classic prototypes), else shares in proportion
        to cluster size. k-means runs at least :data:`PROTOTYPE_NITER` iterations on at least
        :data:`PROTOTYPE_TRAIN` rows (or all): better centroids are better prototypes (+1.7 points
        at 0.1% on Fashion-MNIST, 10 seeds). With ``restart`` (label-free), from up to
        :data:`PROTOTYPE_RESTARTS` initialisations where they are cheap (:func:`prototype_restarts`):
        +8.4 points at 1% on BBC News (40 held-out seeds); inside labelled groups restarts lost
        1.1 points there, so the candidates with labels keep one run. Returns positions into
        ``rows`` and their cluster ids.
        """
        assert sig.vectors is not None
        x = sig.vectors if len(rows) == len(sig) else sig.vectors[rows]
        ids = sig.ids if len(rows) == len(sig) else sig.ids.take(rows)
        k = min(max(1, -(-quota // per)), len(rows))
        niter = max(self.niter, PROTOTYPE_NITER)
        max_train = max(128 * k, min(len(rows), PROTOTYPE_TRAIN))
        restarts = prototype_restarts(min(len(rows), max_train), k, x.shape[1], niter) if restart else 1
        kw = {"spherical": self.metric == "cosine", "niter": niter, "ids": ids, "restarts": restarts}
        try:
            res = kmeans(x, k, seed=seed, max_train=max_train, **kw)
        except ValueError as e:
            if "distinct" not in str(e):
                raise
            distinct = len(np.unique(row_hashes(np.asarray(x))))
            res = kmeans(x, min(k, distinct), seed=seed, max_train=len(rows), **kw)
        labels = np.asarray(res.labels, dtype=np.int64)
        sizes = np.bincount(labels, minlength=res.k)
        q = allocate((sizes > 0).astype(float) if per == 1 else sizes.astype(float), sizes, quota)
        key = exact_distances(res) + uniform_keys(ids, seed).astype(np.float64) * 1e-9
        return np.flatnonzero(rank_within(labels, key, res.k) < q[labels]), labels

    def _run(self, params: dict[str, Any], sig: Signals, groups: np.ndarray, quota: np.ndarray,
             seed: int, restart: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Prototypes inside every group with a positive quota: one cluster per ``rows_per_cluster`` kept rows."""
        chosen, labels, offset = [], np.zeros(len(sig), dtype=np.int64), 0
        for g in np.flatnonzero(quota):
            rows = np.flatnonzero(groups == g)
            picked, cl = self._typical(sig, rows, int(quota[g]), int(params["rows_per_cluster"]), seed, restart)
            labels[rows] = cl + offset
            offset += int(cl.max()) + 1 if len(cl) else 0
            chosen.append(rows[picked])
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
        labels: np.ndarray | None
        name, params = FLOOR[0], dict(FLOOR[1])
        info: dict[str, Any] = {"fraction": round(fraction, 6), "stratified_by_group": bool(grouped)}
        if not grouped:
            stab = cluster_stability(sig.vectors, sig.ids, self.metric, seed, self.niter)
            info["clusterability"] = {**stab, "at_least": STABILITY_AT_LEAST}
            name, params = auto_rule(fraction, False, stab["stability"])
            agree = f"no labels: k-means restarts agree {stab['stability']:.3f}"
            if name in (UNIFORM[0], TRIMMED[0]):
                keys = self._keys(sig, seed).astype(np.float64)
                if name == TRIMMED[0]:  # set-aside rows sort after every other row
                    typ = typicality(sig.vectors, self.metric)
                    low, high = np.quantile(typ, [DROP_OUTLIERS, 1 - DROP_TYPICAL])
                    keys[(typ > high) | (typ < low)] += 2.0
                chosen = np.argpartition(keys, total - 1)[:total] if total < n else np.arange(n)
                # clusters only describe the sample (coverage, the cluster column), as for every embedding selector
                labels = np.asarray(self._clusters(sig, seed).labels, dtype=np.int64)
                info["why"] = (f"{agree} < {STABILITY_AT_LEAST} (no clear clusters, so strata would be arbitrary): " + (
                    "budget < 1%: a uniform random sample, the same rows as `random` with this seed"
                    if name == UNIFORM[0] else "budget >= 1%: a uniform random sample of the rows left after setting "
                    "aside the 25% most typical (redundant) and the 5% least typical (outliers)"))
            elif name == FLOOR[0]:
                chosen, labels = self._floor(sig, groups, total, seed)
                info["why"] = f"{agree} >= {STABILITY_AT_LEAST} (clusters), budget >= 2%: stratified random floor"
            else:
                chosen, labels = self._run(params, sig, groups, quota, seed, restart=True)
                info["why"] = (f"{agree} >= {STABILITY_AT_LEAST} (clusters), budget < 2%: prototypes (k-means from up "
                               f"to {PROTOTYPE_RESTARTS} initialisations, the lowest inertia kept)")
        else:
            chosen, labels = self._floor(sig, groups, total, seed)
            keys = self._keys(sig, derived_seed(seed, "auto-check"))
            found = [(FLOOR[0], dict(FLOOR[1]), chosen, labels)]
            for cand, cparams in auto_candidates(fraction, grouped):
                if cand == HERDING[0]:
                    dim = int(sig.vectors.shape[1])
                    part = int(min(PARTITION_SIZE, max(HERDING_MIN_PARTITION,
                                                       HERDING_MAX_WORK / (1.5 * (n + total) * dim))))
                    work = herding_work(sizes, quota, dim, part)
                    if work > HERDING_MAX_WORK:
                        info["skipped"] = {"herding": f"about {work:.1e} multiply-adds in partitions of {part} rows, "
                                                      f"above {HERDING_MAX_WORK:.0e}"}
                        continue
                    cparams = {**cparams, "partition_size": part}
                    info["herding_partition_size"] = part
                    found.append((cand, cparams, *herd_groups(sig.vectors, sig.ids, groups, quota, metric=self.metric,
                                                              seed=seed, niter=self.niter, **cparams)))
                else:
                    found.append((cand, cparams, *self._run(cparams, sig, groups, quota, seed)))
            # every candidate is scored on the same rows, those none of them picked (when there are any)
            unpicked = np.ones(len(sig), bool)
            for *_, picked, _ in found:
                unpicked[picked] = False
            held_out = np.flatnonzero(unpicked) if unpicked.any() else None
            check, best = {}, -1.0
            for cand, cparams, picked, plabels in found:
                score = probe_check(sig.vectors, groups, picked, keys, self.metric, held_out)
                check["floor" if cand == FLOOR[0] else candidate_name(cand, cparams)] = score
                if score > best:  # ties keep the earlier candidate, the floor first
                    best, chosen, labels, name, params = score, picked, plabels, cand, cparams
            info["check"] = {k: round(v, 6) for k, v in check.items()}
            info["why"] = (f"budget {'<' if fraction < PROTOTYPE_BELOW else '>='} 2% with labels: " + (
                f"{candidate_name(name, params)} scored best on the linear-probe check, above the floor"
                if name != FLOOR[0] else "no candidate beat the floor on the linear-probe check; floor kept"))
        info["seconds"] = round(time.perf_counter() - t0, 3)
        self.chosen_method_ = name
        out = self._finish(sig, chosen, seed, None, labels=labels)
        out.metrics["auto"] = {"method": name, "params": params, **info}
        return out
