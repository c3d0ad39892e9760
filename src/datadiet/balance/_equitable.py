"""Equitable budget allocation across groups from power-law learning curves."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from datadiet._core import Declared, Param, ParamError, register
from datadiet._core._errors import DataError

__all__ = ["EquitableAllocator", "PowerLaw", "fit_power_law"]


@dataclass(frozen=True)
class PowerLaw:
    """A learning curve ``score(n) = c - a * n ** -b`` (accuracy rising to ``c``)."""

    a: float
    b: float
    c: float

    def __call__(self, n: Any) -> np.ndarray:
        n = np.maximum(np.asarray(n, dtype=np.float64), 1.0)
        return self.c - self.a * n ** (-self.b)

    def size_for(self, score: float) -> float:
        """Smallest (real) ``n`` reaching ``score`` (``inf`` when the curve never does)."""
        if score >= self.c or self.a <= 0:
            return 1.0 if self.a <= 0 and score <= self.c else float("inf")
        return float(((self.c - score) / self.a) ** (-1.0 / self.b))

    def slope(self, n: float) -> float:
        return float(self.a * self.b * max(n, 1.0) ** (-self.b - 1.0))


def fit_power_law(sizes: Any, scores: Any, *, max_score: float = 1.0) -> PowerLaw:
    """Least-squares fit of ``score = c - a n^-b`` (``a >= 0``, ``0 < b <= 3``, ``c <= max_score``).

    Examples
    --------
    >>> n = np.array([50, 100, 200, 400, 800])
    >>> curve = fit_power_law(n, 0.9 - 2.0 * n ** -0.5)
    >>> round(curve.c, 3), round(curve.b, 2)
    (0.9, 0.5)
    """
    from scipy.optimize import least_squares

    n = np.asarray(sizes, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if n.shape != s.shape or n.ndim != 1:
        raise DataError("a learning curve needs one score per pilot size (two 1-D arrays of equal length)")
    if len(n) < 2 or len(np.unique(n)) < 2:
        raise DataError(f"a learning curve needs scores at 2 or more distinct pilot sizes; got sizes {n.tolist()}")
    if (n <= 0).any() or not np.isfinite(s).all():
        raise DataError("pilot sizes must be positive and scores finite")
    top = float(max_score)
    c0 = min(top, float(s.max()) + 0.05 * (float(s.max()) - float(s.min()) + 1e-3))

    def resid(p: np.ndarray) -> np.ndarray:
        a, b, c = p
        return c - a * n ** (-b) - s

    best = None
    for b0 in (0.3, 0.7, 1.2):
        a0 = max((c0 - float(s.min())) * float(n.min()) ** b0, 1e-6)
        lo, hi = [0.0, 1e-3, -np.inf], [np.inf, 3.0, top]
        r = least_squares(resid, [a0, b0, min(c0, top - 1e-9)], bounds=(lo, hi))
        if best is None or r.cost < best.cost:
            best = r
    assert best is not None
    a, b, c = (float(v) for v in best.x)
    return PowerLaw(a, b, c)


@register("balance")
class EquitableAllocator(Declared):
    """Split a budget across groups to maximise the worst group's predicted score.

    From pilot runs (``{group: (sizes, scores)}``: the score of a model trained on
    ``n`` examples of each group, measured on that group), each group gets a
    power-law learning curve ``score_g(n) = c_g - a_g n^-b_g``. With per-example
    costs ``c_g``, ``fit`` finds counts ``n_g`` with ``sum(cost_g * n_g) <= budget``
    that maximise ``min_g score_g(n_g)`` (``objective="worst"``, as "Adaptive Sampling
    for Equitable Datasets") or ``sum_g w_g score_g(n_g)`` (``"weighted"``). The
    rest of the budget is spent too: what is left is less than the cheapest cost
    of a group that can still grow. ``floors`` (at least; by default the group's
    smallest pilot size, since a curve says little below its pilots) and ``caps``
    (at most, e.g. what can be collected) bound each group.

    ``allocation_`` (group -> count) is what
    :class:`~datadiet.GroupBalanceSelector` takes as ``quotas``; ``weights_`` are
    the same counts as shares. :meth:`fit_sequential` re-fits the curves after
    each round from a callback that trains and scores. Python API only.

    Examples
    --------
    >>> pilot = {"a": ([50, 100, 200], [0.70, 0.76, 0.80]), "b": ([50, 100, 200], [0.50, 0.58, 0.64])}
    >>> al = EquitableAllocator(budget=1000).fit(pilot)
    >>> al.allocation_["b"] > al.allocation_["a"], sum(al.allocation_.values())
    (True, 1000)
    """

    method = "equitable"
    summary = "split a budget across groups to maximise the worst group's predicted score (learning curves)"
    example = "datadiet.balance.EquitableAllocator(budget=5000).fit({'a': (sizes, acc), ...}).allocation_"
    params = (
        Param("budget", "float", 1000, "total cost to spend (examples when every cost is 1)", low=0, cli=False),
        Param("costs", "mapping", None, "cost of one example of a group (default 1)", none=True, cli=False),
        Param("objective", "choice", "worst", "maximise the worst group's or a weighted sum of scores",
              choices=("worst", "weighted"), cli=False),
        Param("group_weights", "mapping", None, "weights of the weighted objective (default 1)", none=True,
              cli=False),
        Param("floors", "mapping", None, "least examples of a group (default: its smallest pilot size, so "
              "curves are not extrapolated below the pilots)", none=True, value_type=int, cli=False),
        Param("caps", "mapping", None, "most examples of a group (default no limit)", none=True, value_type=int,
              cli=False),
        Param("max_extrapolation", "float", 4.0, "most examples of a group as a multiple of its largest pilot "
              "size (raised evenly when the budget needs it; None: no limit)", low=1, none=True, cli=False),
        Param("max_score", "float", 1.0, "the largest score a curve may approach (1 for accuracy)", cli=False),
    )

    def _vec(self, d: Mapping[str, Any] | None, names: list[str], default: float, what: str) -> np.ndarray:
        d = dict(d or {})
        unknown = set(map(str, d)) - set(names)
        if unknown:
            raise DataError(f"{what} names groups {sorted(unknown)} that have no pilot data; groups: {names}")
        return np.array([float(d.get(g, default)) for g in names])

    def fit(self, pilot: Mapping[str, Any]) -> EquitableAllocator:
        """Fit a curve per group from ``{group: (sizes, scores)}`` and allocate the budget."""
        self.validate_params()
        if not isinstance(pilot, Mapping) or not pilot:
            raise DataError("pilot must map each group to (sizes, scores) of its pilot runs")
        names = [str(g) for g in pilot]
        self.curves_ = {str(g): fit_power_law(*v, max_score=self.max_score) for g, v in pilot.items()}
        self._min_pilot = {str(g): float(np.min(v[0])) for g, v in pilot.items()}
        self._max_pilot = {str(g): float(np.max(v[0])) for g, v in pilot.items()}
        self._allocate(names)
        return self

    def _allocate(self, names: list[str], budget: float | None = None) -> None:
        cost = self._vec(self.costs, names, 1.0, "costs")
        if (cost <= 0).any():
            raise ParamError("costs", "positive numbers", dict(self.costs or {}), type(self).__name__)
        w = self._vec(self.group_weights, names, 1.0, "group_weights")
        floor = self._vec(self.floors, names, 0.0, "floors")
        if self.floors is None:
            floor = np.array([getattr(self, "_min_pilot", {}).get(g, 0.0) for g in names])
        cap = self._vec(self.caps, names, np.inf, "caps")
        if (floor > cap).any():
            raise DataError("a floor is above its group's cap")
        budget = float(self.budget if budget is None else budget)
        if float((floor * cost).sum()) > budget + 1e-9:
            if self.floors is None:
                raise DataError(f"the smallest pilot sizes cost {float((floor * cost).sum()):g}, more than the "
                                f"budget {budget:g}; give floors explicitly (e.g. floors={{}}) or a larger budget")
            raise DataError(f"the floors cost {float((floor * cost).sum()):g}, more than the budget {budget:g}")
        hard_cap = cap
        pilot_max = getattr(self, "_max_pilot", {})
        if self.max_extrapolation is not None and all(g in pilot_max for g in names):
            cap = _extrapolation_caps(np.array([pilot_max[g] for g in names]) * float(self.max_extrapolation),
                                      floor, cap, cost, budget)
        curves = [self.curves_[g] for g in names]
        n = floor.copy()
        if self.objective == "worst":
            n = self._max_min(curves, cost, floor, cap, budget)
        n = self._greedy(curves, cost, w if self.objective == "weighted" else None, n, cap, budget)
        # the extrapolation limit is soft: what it leaves (less than one example per group) may go past it
        n = self._greedy(curves, cost, w if self.objective == "weighted" else None, n, hard_cap, budget)
        self.allocation_ = {g: int(v) for g, v in zip(names, n, strict=True)}
        self.cost_ = float((n * cost).sum())
        total = float(n.sum())
        self.weights_ = {g: (float(v) / total if total else 0.0) for g, v in zip(names, n, strict=True)}
        self.predicted_ = {g: float(c(max(v, 1))) for g, c, v in zip(names, curves, n, strict=True)}

    @staticmethod
    def _max_min(curves: list[PowerLaw], cost: np.ndarray, floor: np.ndarray, cap: np.ndarray,
                 budget: float) -> np.ndarray:
        """Largest target score ``t`` whose counts ``ceil(size_for(t))`` (within floors, caps) fit the budget."""

        def counts(t: float) -> np.ndarray:
            need = np.array([np.ceil(c.size_for(t)) if np.isfinite(c.size_for(t)) else np.inf for c in curves])
            return np.clip(need, floor, cap)

        lo = min(float(c(max(f, 1))) for c, f in zip(curves, floor, strict=True))
        hi = max(c.c for c in curves)
        best = floor.copy()
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            n = counts(mid)
            if np.isfinite(n).all() and float((n * cost).sum()) <= budget + 1e-9:
                lo, best = mid, n
            else:
                hi = mid
            if hi - lo < 1e-9:
                break
        return best

    @staticmethod
    def _greedy(curves: list[PowerLaw], cost: np.ndarray, w: np.ndarray | None, n: np.ndarray,
                cap: np.ndarray, budget: float) -> np.ndarray:
        """Spend what is left: the lowest predicted score first (or the best weighted gain per cost).

        Steps grow with the remaining budget, so the loop runs ``O(groups * log budget)`` times.
        """
        n = n.astype(np.float64).copy()
        left = budget - float((n * cost).sum())
        G = len(curves)

        def key(g: int) -> float:
            if w is None:
                return float(curves[g](max(n[g], 1)))
            return -w[g] * curves[g].slope(n[g]) / cost[g]

        heap = [(key(g), g) for g in range(G)]
        heapq.heapify(heap)
        while heap:
            _, g = heapq.heappop(heap)
            if cost[g] > left + 1e-9 or n[g] >= cap[g]:
                continue
            step = max(1.0, np.floor(left / (cost[g] * G * 4)))
            step = min(step, cap[g] - n[g], np.floor((left + 1e-9) / cost[g]))
            n[g] += step
            left -= step * cost[g]
            heapq.heappush(heap, (key(g), g))
        return n

    def fit_sequential(self, evaluate: Callable[[dict[str, int]], Mapping[str, float]],
                       pilot_sizes: Mapping[str, Any], rounds: int = 3) -> EquitableAllocator:
        """Allocate in ``rounds`` steps, re-fitting the curves from ``evaluate`` after each.

        ``evaluate(counts)`` trains on ``counts[g]`` examples of every group and returns
        each group's score. Pilot runs at ``pilot_sizes`` (``{group: [n1, n2, ...]}``) come
        first; round ``r`` allocates ``budget * r / rounds``. ``history_`` keeps every
        ``(counts, scores)`` evaluated.
        """
        self.validate_params()
        if rounds < 1:
            raise ParamError("rounds", "an integer >= 1", rounds, type(self).__name__)
        names = [str(g) for g in pilot_sizes]
        lengths = {len(list(v)) for v in pilot_sizes.values()}
        if len(lengths) != 1:
            raise DataError("pilot_sizes must give the same number of pilot sizes to every group")
        points: dict[str, list[tuple[float, float]]] = {g: [] for g in names}
        self.history_: list[tuple[dict[str, int], dict[str, float]]] = []

        def run(counts: dict[str, int]) -> None:
            scores = {str(k): float(v) for k, v in evaluate(dict(counts)).items()}
            self.history_.append((dict(counts), scores))
            for g in names:
                points[g].append((counts[g], scores[g]))

        self._min_pilot = {g: float(min(pilot_sizes[g])) for g in names}
        for i in range(lengths.pop()):
            run({g: int(list(pilot_sizes[g])[i]) for g in names})
        full = float(self.budget)
        for r in range(1, rounds + 1):
            self.curves_ = {g: fit_power_law([p[0] for p in points[g]], [p[1] for p in points[g]],
                                             max_score=self.max_score) for g in names}
            self._max_pilot = {g: max(p[0] for p in points[g]) for g in names}
            self._allocate(names, full * r / rounds)
            if r < rounds:
                run(dict(self.allocation_))
        return self


def _extrapolation_caps(ext: np.ndarray, floor: np.ndarray, cap: np.ndarray, cost: np.ndarray,
                        budget: float) -> np.ndarray:
    """``min(cap, max(ceil(f * ext), floor))`` with the smallest ``f >= 1`` whose limits can hold the budget."""

    def lim(f: float) -> np.ndarray:
        return np.minimum(cap, np.maximum(np.ceil(ext * f), floor))

    if float((lim(1.0) * cost).sum()) >= budget:
        return lim(1.0)
    if float((np.minimum(cap, np.inf) * cost).sum()) < budget:
        return cap  # even the caps cannot hold the budget: they are the only limit
    lo, hi = 1.0, 2.0
    while float((lim(hi) * cost).sum()) < budget:
        lo, hi = hi, hi * 2
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if float((lim(mid) * cost).sum()) >= budget:
            hi = mid
        else:
            lo = mid
    return lim(hi)
