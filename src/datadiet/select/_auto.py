"""``auto``: pick an embedding selector from the budget fraction and the data (rule documented below)."""

from __future__ import annotations

from typing import Any

import numpy as np

from datadiet.balance._allocate import round_preserving_sum
from datadiet.select._base import Picked, Target
from datadiet.select._cluster_balanced import ClusterBalancedSelector
from datadiet.select._embed_base import EmbeddingSelector
from datadiet.select._prototypes import PrototypeSelector
from datadiet.signals._table import Signals

__all__ = ["AutoSelector", "auto_rule"]

#: Budget fraction below which ``auto`` keeps prototypes (typical examples of k-means clusters).
PROTOTYPE_BELOW = 0.02


def auto_rule(fraction: float, grouped: bool = False) -> tuple[str, dict[str, Any]]:
    """The method and parameters ``auto`` uses for a budget that is ``fraction`` of the data.

    * ``fraction < 2%``: ``prototypes`` with ``keep="easy"``: k-means with one
      cluster per kept example (two per cluster inside each group when a
      ``--label``/``--group`` column is given), keeping the examples nearest the
      centroids. With few examples a model learns most from typical,
      non-redundant ones.
    * otherwise: ``cluster-balanced`` with ``alpha=1`` (natural mix): a random
      sample stratified by k-means cluster. Past a few percent of the data random
      is hard to beat for a simple model (prototypes and hard examples both lose
      to it on Fashion-MNIST at 5-30%); stratifying only removes the variance of
      an unlucky draw.

    With groups, the budget is first split across groups in proportion to their
    size (exact stratification) and the rule runs inside each group.

    Examples
    --------
    >>> auto_rule(0.001)[0], auto_rule(0.1)[0]
    ('prototypes', 'cluster-balanced')
    """
    if fraction < PROTOTYPE_BELOW:
        return "prototypes", {"keep": "easy", "per_cluster": 2 if grouped else 1, "spread_power": 0.0}
    return "cluster-balanced", {"alpha": 1.0}


class AutoSelector(EmbeddingSelector):
    """Choose the embedding selector from the budget by :func:`auto_rule`, then run it.

    When the signals carry groups (``--label`` or ``--group``), the budget is
    split across groups in proportion to their size and the chosen method runs
    inside each group.

    Parameters
    ----------
    budget : int, float or str
    metric : {"cosine", "l2"}, default "cosine"
    niter : int, default 20
    seed : int, default 0
    allow_all : bool, default False

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(1000, 4))
    >>> sel = AutoSelector(budget=5).fit(vectors=x)
    >>> sel.chosen_method_, len(sel.selected_indices_)
    ('prototypes', 5)
    """

    method = "auto"
    n_clusters = "auto"

    def __init__(self, *, budget: Any, metric: str = "cosine", niter: int = 20, seed: Any = 0,
                 allow_all: bool = False) -> None:
        self.budget = budget
        self.metric = metric
        self.niter = niter
        self.seed = seed
        self.allow_all = allow_all

    def _select(self, sig: Signals, target: Target, seed: int) -> Picked:
        assert sig.vectors is not None
        n = len(sig)
        total = int(target.examples or n)
        grouped = sig.groups is not None and len(sig.group_names) > 1
        name, params = auto_rule(total / n, grouped)
        cls = {"prototypes": PrototypeSelector, "cluster-balanced": ClusterBalancedSelector}[name]
        self.chosen_method_ = name
        groups = sig.groups if grouped else np.zeros(n, dtype=np.int32)
        assert groups is not None
        sizes = np.bincount(groups)
        quota = round_preserving_sum(sizes * (total / n), sizes)
        chosen, labels, offset = [], np.zeros(n, dtype=np.int64), 0
        for g in np.flatnonzero(sizes):
            rows = np.flatnonzero(groups == g)
            sub = sig if not grouped else Signals.from_arrays(sig.ids.take(rows), vectors=sig.vectors[rows])
            inner = cls(budget=max(int(quota[g]), 1), metric=self.metric, niter=self.niter, seed=seed, **params)
            inner._check_params()
            pick = inner._select(sub, Target(examples=int(quota[g])), seed) if quota[g] else None
            cl = np.asarray(sub.extra["_kmeans_cache"][1].labels) if "_kmeans_cache" in sub.extra else \
                np.zeros(len(rows), np.int64)
            labels[rows] = cl + offset
            offset += int(cl.max()) + 1 if len(cl) else 0
            if pick is not None:
                chosen.append(rows[pick.indices])
        if not grouped:
            sig.extra.pop("_kmeans_cache", None)
        out = self._finish(sig, np.concatenate(chosen), seed, None, labels=labels)
        out.metrics["auto"] = {"method": name, "params": params, "fraction": round(total / n, 6),
                               "stratified_by_group": bool(grouped),
                               "rule": "prototypes(keep=easy) below 2% of the data, else cluster-balanced(alpha=1); "
                                       "inside each group when groups are given"}
        return out
