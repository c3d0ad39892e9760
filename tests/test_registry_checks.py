"""The shared check suite, run on every registered method automatically.

Declarations and the one parameter-error format are checked for every family; the
fitting contract (no mutation, determinism, row order, seeds, budgets) for the
selectors and dedup methods, which share one ``fit(signals)`` entry point. A method
added to the registry is picked up here with nothing else to edit; a method that
needs inputs beyond the common signals names them in ``_extra`` (fitting) or
``REQUIRED_VALUES`` (construction).
"""

from __future__ import annotations

import copy

import numpy as np
import pyarrow as pa
import pytest

import datadiet  # noqa: F401  (registers the methods)
import datadiet.balance  # noqa: F401
import datadiet.dedup  # noqa: F401
import datadiet.negatives  # noqa: F401
import datadiet.train  # noqa: F401
from datadiet._core import REQUIRED, ParamError, registered
from datadiet.signals import HashedEncoder, Signals
from datadiet.signals._tokens import estimate_tokens

N = 400
SELECT = registered("select")
DEDUP = registered("dedup")


@pytest.fixture(scope="module")
def sig(bbc):
    t = bbc.take(pa.array(np.arange(0, bbc.num_rows, bbc.num_rows // N)[:N]))
    text = t.column("text").combine_chunks()
    texts = text.to_pylist()
    vec = HashedEncoder(dim=32).fit([texts]).encode(texts)
    tokens = estimate_tokens(text)
    return Signals.from_arrays(t.column("id"), groups=t.column("topic"), tokens=tokens,
                               scores={"length": tokens.astype(float)}, vectors=np.asarray(vec, np.float32),
                               text=text)


def _extra(name: str, sig: Signals) -> dict:
    sport = np.asarray(sig.groups) == sig.group_names.index("sport")
    return {
        "dsir": {"target": [t for t, s in zip(sig.text.to_pylist(), sport, strict=True) if s], "buckets": 2000},
        "density-ratio": {"target": sig.vectors[sport]},
        "threshold": {"min": float(np.median(sig.scores["length"]))},
    }.get(name, {})


def _make(cls, name, sig, **kw):
    params = {**_extra(name, sig), **kw}
    if "seed" not in cls.declared():
        params.pop("seed", None)
    if "budget" in cls.declared() and "budget" not in params and name != "threshold":
        params["budget"] = 40
    return cls(**params)


def _kept_ids(obj) -> list:
    s = obj.selection_
    return sorted(s.ids.filter(pa.array(s.kept)).to_pylist())


def _deep_equal(a: Signals, b: Signals) -> bool:
    for f in ("tokens", "groups", "vectors"):
        x, y = getattr(a, f), getattr(b, f)
        if (x is None) != (y is None) or x is not None and not np.array_equal(x, y):
            return False
    return (a.ids.equals(b.ids) and a.text.equals(b.text) and a.group_names == b.group_names
            and a.scores.keys() == b.scores.keys() and all(np.array_equal(a.scores[k], b.scores[k]) for k in a.scores))


METHODS = [("select", n) for n in SELECT] + [("dedup", n) for n in DEDUP]
FAMILIES = ("select", "dedup", "balance", "negatives", "batches", "train")
ALL_METHODS = [(f, n) for f in FAMILIES for n in registered(f)]
#: Values for parameters without a default (the train samplers take their data at construction).
REQUIRED_VALUES = {"n": 20, "num_epochs": 3, "fraction": 0.5, "scores": np.linspace(0.0, 1.0, 20),
                   "groups": np.arange(20) % 3, "budget": 10, "target": ["a late goal won the match"]}


def _cls(family, name):
    return registered(family)[name]


def _constructed(cls, **kw):
    """``cls`` with valid values for its required parameters (and a budget and a bound where it takes one)."""
    decl = cls.declared()
    req = {p.name: REQUIRED_VALUES[p.name] for p in decl.values() if p.default is REQUIRED}
    req.update({k: v for k, v, kind in (("budget", 10, "budget"), ("min", 0.5, "float"))
                if k in decl and decl[k].kind == kind})
    return cls(**{**req, **kw})


@pytest.mark.parametrize("family,name", ALL_METHODS)
def test_every_family_validates_in_one_format(family, name):
    """An out-of-range number or an unknown choice is one ``ParamError`` naming the class and the parameter."""
    cls = _cls(family, name)
    _constructed(cls).validate_params()  # the defaults (and the values above) are valid
    checked = 0
    for p in cls.declared().values():
        bad = p.low - 1 if p.kind in ("int", "float") and p.low is not None else (
            "no-such-choice" if p.kind == "choice" else None)
        if bad is None:
            continue
        with pytest.raises(ParamError, match=rf"^{cls.__name__}: {p.name} must be "):
            _constructed(cls, **{p.name: bad}).validate_params()
        checked += 1
    assert checked or not any(p.kind in ("int", "float", "choice") for p in cls.declared().values())


@pytest.mark.parametrize("family,name", ALL_METHODS)
def test_declarations(family, name):
    cls = _cls(family, name)
    decl = cls.declared()
    assert cls.method == name and decl, "a registered method declares its parameters"
    for p in decl.values():
        assert p.help, f"{name}.{p.name} has no help line"
        if p.default is not REQUIRED:
            p.check(p.default, cls.__name__)  # every default is allowed by its own declaration
        # an alias equal to the generated option makes click warn on every command
        assert "--" + p.name.replace("_", "-") not in p.aliases, f"{name}.{p.name}: alias repeats the option name"
    assert "Parameters\n----------" in (cls.__doc__ or ""), "the docstring lists the parameters"
    with pytest.raises(TypeError, match="unexpected parameter 'not_a_param'"):
        cls(not_a_param=1)


@pytest.mark.parametrize("family,name", METHODS)
def test_bad_params_one_format(family, name, sig):
    cls = _cls(family, name)
    checked = 0
    for p in cls.declared().values():
        if p.kind in ("int", "float") and p.low is not None:
            obj = _make(cls, name, sig, **{p.name: p.low - 1})
            with pytest.raises(ParamError, match=rf"^{cls.__name__}: {p.name} must be (a number|an integer)"):
                obj.fit(sig)
            checked += 1
        if p.kind == "choice":
            obj = _make(cls, name, sig, **{p.name: "no-such-choice"})
            with pytest.raises(ParamError, match=rf"^{cls.__name__}: {p.name} must be one of"):
                obj.fit(sig)
            checked += 1
    if "seed" in cls.declared():
        with pytest.raises(TypeError, match="seed"):
            _make(cls, name, sig, seed="x").fit(sig)
    assert checked or not any(p.kind in ("int", "float", "choice") for p in cls.declared().values())


@pytest.mark.parametrize("family,name", METHODS)
def test_contract(family, name, sig):
    cls = _cls(family, name)
    before_sig = copy.deepcopy(sig)
    obj = _make(cls, name, sig, seed=5)
    params_before = copy.deepcopy(obj.get_params())
    assert obj.fit(sig) is obj
    # neither the input nor the parameters are mutated (deep comparison)
    assert _deep_equal(sig, before_sig)
    assert repr(obj.get_params()) == repr(params_before)
    # fresh objects, same seed: same selection
    again = _make(cls, name, sig, seed=5).fit(sig)
    assert _kept_ids(again) == _kept_ids(obj)
    np.testing.assert_array_equal(again.selection_.repeats, obj.selection_.repeats)
    # indices unique and in range
    idx = obj.selected_indices_
    assert len(np.unique(idx)) == len(idx) and (idx >= 0).all() and (idx < len(sig)).all()
    # the manifest records the parameters and the seed used
    m = obj.selection_.manifest()
    if "seed" in cls.declared():
        assert m["seed"] == 5 and m["params"]["seed"] == 5
    for p in cls.declared():
        assert p in m["params"], f"manifest lacks parameter {p}"


@pytest.mark.parametrize("family,name", METHODS)
def test_row_order_and_seed_none(family, name, sig):
    cls = _cls(family, name)
    # dedup keeps by a policy; "random" is keyed by (seed, id), "first" depends on the order by definition
    kw = {"keep": "random"} if family == "dedup" else {}
    base = _make(cls, name, sig, seed=7, **kw).fit(sig)
    perm = np.random.default_rng(0).permutation(len(sig))
    shuffled = _make(cls, name, sig, seed=7, **kw).fit(sig.take(perm))
    assert _kept_ids(shuffled) == _kept_ids(base), "row order changed the selection"
    if "seed" not in cls.declared():
        return
    # seed=None: the manifest's seed reproduces the run
    free = _make(cls, name, sig, seed=None).fit(sig)
    seed = free.selection_.manifest()["seed"]
    assert isinstance(seed, int)
    assert _kept_ids(_make(cls, name, sig, seed=seed).fit(sig)) == _kept_ids(free)


@pytest.mark.parametrize("name", [n for n in SELECT if "budget" in SELECT[n].declared()])
def test_budget_edges(name, sig):
    cls = SELECT[name]
    if name in ("dsir", "density-ratio"):
        pytest.skip("importance selectors resolve the budget against rows with features (tested in their suite)")
    obj = _make(cls, name, sig, budget=len(sig) + 1)
    if not obj.repeats_allowed():
        with pytest.raises(ValueError, match="allow_all"):
            obj.fit(sig)
        full = _make(cls, name, sig, budget=len(sig) + 1, allow_all=True).fit(sig)
        assert len(full.selected_indices_) == len(sig)
    for bad in (0, -5, "abc", "150%"):
        with pytest.raises((ValueError, TypeError)):
            _make(cls, name, sig, budget=bad).fit(sig)
    empty = sig.take(np.zeros(0, dtype=np.int64))
    with pytest.raises(ValueError, match="no examples"):
        _make(cls, name, sig).fit(empty)


@pytest.mark.parametrize("name", [n for n, c in SELECT.items() if "vectors" in c.requires])
def test_non_finite_vectors_are_refused_naming_the_first_id(name, sig):
    """Every selector that reads vectors refuses a NaN or an infinity, naming the first id, and leaves the input."""
    cls = _cls("select", name)
    vec = sig.vectors.copy()
    vec[7, 3], vec[30, 0] = np.nan, np.inf
    bad = Signals.from_arrays(sig.ids, groups=np.asarray(sig.groups), vectors=vec, text=sig.text)
    before = bad.vectors.copy()
    with pytest.raises(ValueError, match=f"NaN or infinite values \\(id {sig.ids[7].as_py()!r} is the first\\)"):
        _make(cls, name, sig).fit(bad)
    np.testing.assert_array_equal(bad.vectors, before)
