"""Parameter declarations, seeds and errors of the bottom layer."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from datadiet._core import (
    REQUIRED,
    DatadietError,
    DataError,
    Declared,
    Param,
    ParamError,
    ParamTypeError,
    derived_seed,
    resolve_seed,
)


class Toy(Declared):
    """A toy.

    Examples
    --------
    >>> t = Toy(3)
    """

    params = (
        Param("n", "int", REQUIRED, "rows", positional=True, low=1),
        Param("alpha", "float", 0.5, "temperature", low=0, high=1, low_open=True),
        Param("mode", "choice", "up", "mode", choices=("up", "down")),
        Param("k", "int", "auto", "clusters", low=1, also=("auto",)),
        Param("quotas", "mapping", None, "quotas", none=True, value_type=int),
        Param("seed", "seed", 0, "seed"),
    )


def test_constructor_signature_and_docstring_come_from_the_declaration():
    t = Toy(5, mode="down")
    assert t.get_params() == {"n": 5, "alpha": 0.5, "mode": "down", "k": "auto", "quotas": None, "seed": 0}
    sig = inspect.signature(Toy)
    assert list(sig.parameters) == ["n", "alpha", "mode", "k", "quotas", "seed"]
    assert sig.parameters["alpha"].kind is inspect.Parameter.KEYWORD_ONLY
    doc = Toy.__doc__ or ""
    assert doc.index("Parameters") < doc.index("Examples") and "alpha : a number in (0, 1], default 0.5" in doc
    with pytest.raises(TypeError, match="unexpected parameter 'beta'; its parameters are: n, alpha"):
        Toy(5, beta=1)
    with pytest.raises(TypeError, match="needs the parameter 'n'"):
        Toy()
    with pytest.raises(TypeError, match="positional"):
        Toy(1, 2)


@pytest.mark.parametrize(("kw", "cls", "message"), [
    ({"n": 0}, ParamError, "Toy: n must be an integer >= 1; got 0"),
    ({"n": 2.5}, ParamTypeError, "Toy: n must be an integer >= 1; got 2.5"),
    ({"n": True}, ParamTypeError, "n must be an integer"),
    ({"alpha": 0}, ParamError, r"alpha must be a number in \(0, 1\]; got 0"),
    ({"alpha": float("nan")}, ParamError, "alpha must be a number"),
    ({"mode": "sideways"}, ParamError, "mode must be one of 'up', 'down'; got 'sideways'"),
    ({"k": "many"}, ParamTypeError, "k must be an integer >= 1 or 'auto'; got 'many'"),
    ({"quotas": {"a": 1.5}}, ParamError, "quotas must be a mapping of names to integers or None"),
    ({"seed": -1}, ParamError, "seed must be an int >= 0"),
    ({"seed": "x"}, ParamTypeError, "seed must be"),
])
def test_one_message_format(kw, cls, message):
    t = Toy(**{"n": 3, **kw})
    with pytest.raises(cls, match=message) as info:
        t.validate_params()
    assert isinstance(info.value, DatadietError) and isinstance(info.value, ValueError)


def test_valid_values_pass():
    Toy(3, alpha=1, k=4, quotas={"a": 2}, seed=np.random.default_rng(0)).validate_params()
    Toy(np.int64(3), k=np.int64(2)).validate_params()


def test_param_error_names_cli_options_on_request():
    e = ParamError("budget", "at most 5 unless `allow_all` is set", 9, "RandomSelector")
    assert str(e) == "RandomSelector: budget must be at most 5 unless allow_all is set; got 9"
    assert e.format(flags=True) == "RandomSelector: --budget must be at most 5 unless --allow-all is set; got 9"


def test_seeds():
    assert resolve_seed(4) == 4
    a, b = resolve_seed(np.random.default_rng(1)), resolve_seed(np.random.default_rng(1))
    assert a == b and a != 0  # a Generator is drawn from, never silently 0
    assert resolve_seed(None) != resolve_seed(None)
    with pytest.raises(TypeError):
        resolve_seed(1.5)
    assert derived_seed(9, 0) == 9
    assert derived_seed(9, "a") == derived_seed(9, "a") != derived_seed(9, "b") != derived_seed(10, "a")
    assert derived_seed(9, 1) != derived_seed(9, 2)
    assert issubclass(DataError, ValueError) and issubclass(DataError, DatadietError)
