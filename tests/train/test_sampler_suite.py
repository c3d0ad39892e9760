"""Invariants every train sampler shares: epochs, resume, shards, determinism, registry, bad params."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from datadiet._core import REQUIRED, ParamError, registered
from datadiet.train import (
    CurriculumSampler,
    GroupSampler,
    InfoBatchSampler,
    LossWindowSampler,
    RS2Sampler,
)

N = 103
GROUPS = np.array(["a"] * 70 + ["b"] * 25 + ["c"] * 8)
SCORES = np.linspace(0, 1, N)[::-1].copy()

FACTORIES: dict[str, Callable[..., Any]] = {
    "rs2": lambda **kw: RS2Sampler(N, 0.3, **kw),
    "rs2-replacement": lambda **kw: RS2Sampler(N, 0.3, replacement=True, **kw),
    "infobatch": lambda **kw: InfoBatchSampler(N, 6, **kw),
    "infobatch-budget": lambda **kw: InfoBatchSampler(N, 6, budget=0.7, **kw),
    "group-upsample": lambda **kw: GroupSampler(GROUPS, alpha=0.3, schedule="cooldown", num_epochs=6, **kw),
    "group-downsample": lambda **kw: GroupSampler(GROUPS, alpha=0.0, mode="downsample", **kw),
    "group-upweight": lambda **kw: GroupSampler(GROUPS, alpha=0.5, mode="upweight", **kw),
    "group-online": lambda **kw: GroupSampler(GROUPS, online=True, **kw),
    "curriculum": lambda **kw: CurriculumSampler(SCORES, num_epochs=6, pacing="root", **kw),
    "loss-window": lambda **kw: LossWindowSampler(N, 6, prune_ratio=0.2, **kw),
}


def _feed(s: Any, idx: list[int], epoch: int) -> None:
    """Deterministic per-example losses for learning samplers (depend on index and epoch)."""
    if s.wants_losses():
        i = np.asarray(idx)
        s.update(i, np.abs(np.sin(i * 1.7 + epoch)) + (i % 7) * 0.1)


def _run(s: Any, epochs: int = 4) -> list[list[int]]:
    out = []
    for e in range(epochs):
        s.set_epoch(e)
        got: list[int] = []
        for i in s:
            got.append(i)
            if len(got) % 10 == 0:
                _feed(s, got[-10:], e)
        _feed(s, got[len(got) - len(got) % 10 :], e)
        out.append(got)
    return out


def test_every_registered_train_method_is_covered():
    names = set(registered("train"))
    assert {"rs2", "infobatch", "group", "curriculum", "loss-window"} <= names
    covered = {k.split("-")[0] if k.startswith(("rs2", "infobatch", "group")) else k for k in FACTORIES}
    assert names <= covered


@pytest.mark.parametrize("name", sorted(registered("train")))
def test_declarations_of_every_registered_sampler(name):
    cls = registered("train")[name]
    decl = cls.declared()
    assert cls.method == name and cls.summary
    for p in decl.values():
        assert p.help, f"{name}.{p.name} has no help line"
        if p.default is not REQUIRED:
            p.check(p.default, cls.__name__)
    assert "Parameters\n----------" in (cls.__doc__ or "")
    base = {"rs2": {"n": N, "fraction": 0.3}, "infobatch": {"n": N, "num_epochs": 6},
            "group": {"groups": GROUPS, "num_epochs": 4, "schedule": "linear"},
            "curriculum": {"scores": SCORES, "num_epochs": 6},
            "loss-window": {"n": N, "num_epochs": 6}}[name]

    def make(**kw):
        return cls(**{**base, **kw})

    make()
    with pytest.raises(TypeError, match="unexpected parameter 'not_a_param'"):
        make(not_a_param=1)
    for p in decl.values():
        if p.kind in ("int", "float") and p.low is not None:
            with pytest.raises(ParamError, match=rf"^{cls.__name__}: {p.name} must be (a number|an integer)"):
                make(**{p.name: p.low - 1})
        if p.kind == "choice":
            with pytest.raises(ParamError, match=rf"^{cls.__name__}: {p.name} must be one of"):
                make(**{p.name: "no-such-choice"})
    with pytest.raises(TypeError, match="seed"):
        make(seed="x")


@pytest.mark.parametrize("name", FACTORIES)
def test_length_matches_iteration_and_indices_in_range(name):
    s = FACTORIES[name](seed=1)
    for e, got in enumerate(_run(s)):
        s.set_epoch(e) if e < 4 else None
        assert len(got) > 0
        assert all(0 <= i < N for i in got)
        assert all(isinstance(i, int) for i in got)


@pytest.mark.parametrize("name", FACTORIES)
def test_same_seed_same_sequence_other_seed_differs(name):
    a = _run(FACTORIES[name](seed=5))
    b = _run(FACTORIES[name](seed=5))
    c = _run(FACTORIES[name](seed=6))
    assert a == b
    assert a != c


@pytest.mark.parametrize("name", FACTORIES)
def test_state_dict_round_trip_resumes_mid_epoch(name):
    ref = FACTORIES[name](seed=2)
    full = _run(ref, 3)
    # replay: two full epochs, then stop 17 indices into the third, save, and resume in a fresh object
    s = FACTORIES[name](seed=2)
    first = _run(s, 2)
    assert first == full[:2]
    s.set_epoch(2)
    it = iter(s)
    head = [next(it) for _ in range(17)]
    _feed(s, head[:10], 2)
    state = s.state_dict()
    fresh = FACTORIES[name](seed=2)
    fresh.load_state_dict(state)
    tail = list(fresh)
    assert head + tail == full[2]


@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize("replicas", [2, 3])
def test_shards_are_disjoint_and_equal(name, replicas):
    shards = [FACTORIES[name](seed=3, num_replicas=replicas, rank=r) for r in range(replicas)]
    for e in range(3):
        parts = []
        for s in shards:
            s.set_epoch(e)
            parts.append(list(s))
        assert len({len(p) for p in parts}) == 1
        # positions are disjoint: together the shards are exactly the single-replica epoch, minus the tail
        single = FACTORIES[name](seed=3)
        if single.wants_losses() or name.startswith("rs2"):   # RS2 rounds its round size to the replicas
            continue
        single.set_epoch(e)
        whole = list(single)
        merged = [p[k] for k in range(len(parts[0])) for p in parts]
        assert merged == whole[: len(merged)]
        assert len(whole) - len(merged) < replicas
        if name in ("rs2", "rs2-replacement", "group-downsample", "group-upweight", "curriculum"):
            assert not set(parts[0]) & set(parts[1])


def test_rs2_shards_still_cover_every_index_before_repeats():
    shards = [RS2Sampler(50, 0.3, seed=0, num_replicas=4, rank=r) for r in range(4)]
    rounds = []
    for e in range(5):
        got: list[int] = []
        for s in shards:
            s.set_epoch(e)
            got += list(s)
        rounds.append(got)
    assert shards[0].round_size_ == 12
    first4 = sum(rounds[:4], [])
    assert len(set(first4)) == 48                       # no repeats in the first 48 draws
    assert set(range(50)) - set(first4) <= set(rounds[4])  # the last two come next


@pytest.mark.parametrize("name", ["rs2", "infobatch", "group-upsample", "group-upweight", "curriculum"])
def test_epoch_selection_logs_what_the_epoch_trains_on(name, tmp_path):
    from datadiet.io import Selection

    s = FACTORIES[name](seed=0)
    _run(s, 2)
    plan = s.epoch_indices()
    sel = s.epoch_selection()
    assert len(sel) == N
    assert int(sel.repeats.sum()) == len(plan)
    np.testing.assert_array_equal(np.flatnonzero(sel.kept), np.unique(plan))
    np.testing.assert_allclose(sel.weight[sel.kept], s.loss_weights(np.flatnonzero(sel.kept)))
    sel.write(tmp_path / "epoch.parquet")
    back = Selection.read(tmp_path / "epoch.parquet")
    assert back.method == s.method and back.n_kept == len(np.unique(plan))
    named = s.epoch_selection(ids=[f"ex{i}" for i in range(N)])
    assert named.ids.to_pylist()[:2] == ["ex0", "ex1"] and named.n_kept == sel.n_kept
    with pytest.raises(ValueError, match="ids have repeated values"):
        s.epoch_selection(ids=np.r_[np.arange(N - 1), 0])


def test_iteration_continues_into_next_epoch_without_set_epoch():
    s = RS2Sampler(20, 0.5, seed=0)
    a, b = list(s), list(s)
    assert s.epoch == 1
    assert sorted(a + b) == list(range(20))


@pytest.mark.parametrize("bad, match", [
    (dict(num_replicas=2, rank=2), "rank"),
    (dict(num_replicas=0), "num_replicas"),
    (dict(seed=-1), "seed"),
])
def test_bad_distributed_params(bad, match):
    with pytest.raises(ParamError, match=match):
        RS2Sampler(10, 0.5, **bad)


def test_load_state_of_another_class_or_seed_is_refused():
    s = RS2Sampler(10, 0.5, seed=0)
    with pytest.raises(ValueError, match="InfoBatchSampler"):
        s.load_state_dict(InfoBatchSampler(10, 3).state_dict())
    with pytest.raises(ValueError, match="seed"):
        s.load_state_dict(RS2Sampler(10, 0.5, seed=1).state_dict())
    with pytest.raises(ValueError, match="state_dict"):
        s.load_state_dict({"epoch": 1})


def test_set_epoch_rejects_non_integers():
    s = RS2Sampler(10, 0.5)
    for bad in (-1, 1.5, "2", True):
        with pytest.raises(TypeError, match="epoch"):
            s.set_epoch(bad)


def test_import_does_not_pull_torch():
    import subprocess
    import sys

    code = "import sys, datadiet.train; print('torch' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.parametrize("kind", ["rs2", "infobatch", "group", "curriculum", "loss-window"])
def test_keyed_by_id_so_a_reordered_dataset_gets_the_same_examples(kind):
    ids = np.array([f"ex-{i}" for i in range(N)])
    perm = np.random.default_rng(1).permutation(N)
    loss = np.abs(np.sin(np.arange(N) * 0.37))

    def make(order):
        kw = {"ids": ids[order], "seed": 4}
        return {"rs2": lambda: RS2Sampler(N, 0.3, **kw),
                "infobatch": lambda: InfoBatchSampler(N, 4, **kw),
                "group": lambda: GroupSampler(GROUPS[order], alpha=0.0, mode="downsample", **kw),
                "curriculum": lambda: CurriculumSampler(np.round(SCORES[order], 1), num_epochs=4, **kw),
                "loss-window": lambda: LossWindowSampler(N, 4, prune_ratio=0.2, **kw)}[kind]()

    seqs = []
    for order in (np.arange(N), perm):
        s = make(order)
        out = []
        for e in range(3):
            s.set_epoch(e)
            got = np.array(list(s))
            out.append(ids[order][got].tolist())
            if s.wants_losses():
                s.update(got, loss[order][got])
        seqs.append(out)
    assert seqs[0] == seqs[1]


def test_bad_ids():
    with pytest.raises(ValueError, match="unique"):
        RS2Sampler(3, 0.5, ids=["a", "a", "b"])
    with pytest.raises(ValueError, match="3 integers or strings"):
        RS2Sampler(3, 0.5, ids=[1, 2])
