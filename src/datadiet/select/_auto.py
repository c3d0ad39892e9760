"""``auto``: pick an embedding selector from the budget fraction and the data (rule documented below)."""

from __future__ import annotations

from typing import Any

import numpy as np

from datadiet._core import register
from datadiet._core._allocate import round_preserving_sum
from datadiet.select._base import BUDGETED, Picked, Target
from datadiet.select._cluster_balanced import ClusterBalancedSelector
from datadiet.select._embed_base import METRIC, NITER, EmbeddingSelector
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


@register("select")
class AutoSelector(EmbeddingSelector):
    """Choose the embedding selector from the budget by :func:`auto_rule`, then run it.

    When the signals carry groups (``--label`` or ``--group``), the budget is
    split across groups in proportion to their size and the chosen method runs
    inside each group.

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

    params = (*BUDGETED, METRIC, NITER)

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
            if not quota[g]:
                continue
            inner = cls(budget=int(quota[g]), metric=self.metric, niter=self.niter, seed=seed, **params).fit(sub)
            cl = np.asarray(inner.selection_.extra["cluster"], dtype=np.int64)
            labels[rows] = cl + offset
            offset += int(cl.max()) + 1 if len(cl) else 0
            chosen.append(rows[inner.selected_indices_])
        out = self._finish(sig, np.concatenate(chosen), seed, None, labels=labels)
        out.metrics["auto"] = {"method": name, "params": params, "fraction": round(total / n, 6),
                               "stratified_by_group": bool(grouped),
                               "rule": "prototypes(keep=easy) below 2% of the data, else cluster-balanced(alpha=1); "
                                       "inside each group when groups are given"}
        return out
