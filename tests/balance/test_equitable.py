import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datadiet._core import DataError
from datadiet.balance import EquitableAllocator, PowerLaw, fit_power_law

curve = st.builds(lambda a, b, c: (a, b, c), st.floats(0.1, 5), st.floats(0.1, 1.5), st.floats(0.5, 1.0))


def _pilot(params):
    sizes = np.array([20, 40, 80, 160])
    return {f"g{i}": (sizes, PowerLaw(*p)(sizes)) for i, p in enumerate(params)}


@settings(max_examples=25)
@given(st.lists(curve, min_size=1, max_size=5), st.data())
def test_budget_spent_costs_respected_floors_kept(params, data):
    g = len(params)
    costs = {f"g{i}": data.draw(st.sampled_from([1.0, 0.5, 2.0, 3.5])) for i in range(g)}
    floors = {f"g{i}": data.draw(st.integers(0, 20)) for i in range(g)}
    floor_cost = sum(costs[k] * floors[k] for k in costs)
    budget = floor_cost + data.draw(st.floats(0, 5000))
    objective = data.draw(st.sampled_from(["worst", "weighted"]))
    al = EquitableAllocator(budget=budget, costs=costs, floors=floors, objective=objective).fit(_pilot(params))
    spent = sum(costs[k] * al.allocation_[k] for k in costs)
    assert spent <= budget + 1e-6
    assert budget - spent < min(costs.values()) + 1e-6  # what is left buys no further example
    assert all(al.allocation_[k] >= floors[k] for k in floors)
    assert al.cost_ == pytest.approx(spent)
    if all(c == 1.0 for c in costs.values()):
        assert sum(al.allocation_.values()) == int(np.floor(budget + 1e-9))


@settings(max_examples=25)
@given(st.lists(curve, min_size=2, max_size=3), st.integers(3, 40))
def test_worst_group_is_optimal_against_brute_force(params, budget):
    al = EquitableAllocator(budget=budget, floors={}).fit(_pilot(params))
    worst = min(al.predicted_.values())
    best = -np.inf
    # every group gets at least one example (a curve says nothing about zero examples)
    for split in itertools.product(range(1, budget + 1), repeat=len(params) - 1):
        if sum(split) > budget - 1:
            continue
        n = [*split, budget - sum(split)]
        best = max(best, min(float(al.curves_[f"g{i}"](max(v, 1))) for i, v in enumerate(n)))
    assert worst >= best - 1e-9


def test_default_floors_are_the_smallest_pilot_sizes():
    pilot = _pilot([(0.1, 0.5, 0.99), (3, 0.5, 0.8)])  # g0 is "easy": without floors it would get 1 example
    al = EquitableAllocator(budget=300).fit(pilot)
    assert al.allocation_["g0"] >= 20 and sum(al.allocation_.values()) == 300
    assert EquitableAllocator(budget=300, floors={}).fit(pilot).allocation_["g0"] < 20
    with pytest.raises(DataError, match="smallest pilot sizes cost"):
        EquitableAllocator(budget=30).fit(pilot)


def test_curves_are_not_trusted_far_beyond_the_pilots():
    pilot = {"a": ([50, 100, 200], [0.70, 0.76, 0.80]), "b": ([50, 100, 200], [0.50, 0.58, 0.64])}
    free = EquitableAllocator(budget=1000, max_extrapolation=None).fit(pilot).allocation_
    held = EquitableAllocator(budget=1000).fit(pilot).allocation_
    assert free["b"] > 800 and held == {"a": 200, "b": 800}  # b at 4 x its largest pilot
    big = EquitableAllocator(budget=5000).fit(pilot).allocation_  # the limit rises when the budget needs it
    assert sum(big.values()) == 5000 and max(big.values()) <= 2500


def test_caps_and_errors():
    pilot = _pilot([(2, 0.5, 0.9), (3, 0.5, 0.8)])
    al = EquitableAllocator(budget=100, caps={"g1": 30}).fit(pilot)
    assert al.allocation_["g1"] == 30 and al.allocation_["g0"] == 70
    with pytest.raises(DataError, match="floors cost"):
        EquitableAllocator(budget=10, floors={"g0": 11}).fit(pilot)
    with pytest.raises(DataError, match="no pilot data"):
        EquitableAllocator(budget=10, costs={"zz": 2}).fit(pilot)
    with pytest.raises(DataError, match="2 or more distinct"):
        fit_power_law([10, 10], [0.5, 0.6])


def test_power_law_fit_recovers_a_known_curve():
    n = np.array([25, 50, 100, 200, 400, 800])
    c = fit_power_law(n, 0.93 - 1.5 * n ** -0.6)
    assert (c.a, c.b, c.c) == pytest.approx((1.5, 0.6, 0.93), rel=1e-3)


def test_sequential_on_real_data_gives_the_hardest_topic_more(bbc_topic_pools):
    from sklearn.linear_model import LogisticRegression

    x, topics, test, names, pools = bbc_topic_pools

    def evaluate(counts):
        rows = np.concatenate([pools[g][: counts[g]] for g in names])
        model = LogisticRegression(max_iter=300).fit(x[rows], topics[rows])
        pred = model.predict(x[test])
        return {g: float((pred[topics[test] == g] == g).mean()) for g in names}

    al = EquitableAllocator(budget=600, caps={g: len(pools[g]) for g in names})
    al.fit_sequential(evaluate, {g: [10, 20, 40] for g in names}, rounds=2)
    assert sum(al.allocation_.values()) == 600
    assert len(al.history_) == 3 + 1
    pilot_last = al.history_[2][1]
    hardest = min(pilot_last, key=pilot_last.get)
    easiest = max(pilot_last, key=pilot_last.get)
    assert al.allocation_[hardest] > al.allocation_[easiest]


def test_what_the_extrapolation_limit_leaves_is_spent():
    # found by hypothesis: unit-cost groups at their soft limit, 1.5 left, only a cost-2 group below it
    params = [(1.0, 1.0, 0.5), (1.0, 1.0, 1.0), (1.0, 1.0, 0.5), (1.0, 1.0, 0.5), (1.0, 1.0, 0.5)]
    costs = {"g0": 1.0, "g1": 2.0, "g2": 1.0, "g3": 1.0, "g4": 1.0}
    al = EquitableAllocator(budget=2565.5, costs=costs, floors={}).fit(_pilot(params))
    spent = sum(costs[k] * al.allocation_[k] for k in costs)
    assert 2565.5 - 1.0 < spent <= 2565.5
