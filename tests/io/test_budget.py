import pytest

from datadiet.io import Budget


@pytest.mark.parametrize("text,kind,value", [
    ("1000", "examples", 1000), (1000, "examples", 1000), ("50K", "examples", 50_000),
    ("10%", "fraction", 0.1), ("0.1", "fraction", 0.1), (0.25, "fraction", 0.25), ("100%", "fraction", 1.0),
    ("50M-tokens", "tokens", 50e6), ("2e6-tokens", "tokens", 2e6), ("1.5B tokens", "tokens", 1.5e9),
    ("1e3", "examples", 1000),
])
def test_parse(text, kind, value):
    b = Budget.parse(text)
    assert b.kind == kind
    assert b.value == pytest.approx(value)


@pytest.mark.parametrize("bad", ["0", "-5", 0, -3, "abc", "150%", "1.5", "10 apples", "", None, True, "inf"])
def test_bad_budgets_rejected_with_help(bad):
    with pytest.raises((ValueError, TypeError)) as e:
        Budget.parse(bad)
    assert "budget" in str(e.value)


def test_resolve_fraction_rounds():
    assert Budget.parse("10%").resolve(2225) == 222
    assert Budget.parse("0.5").resolve(3) == 2
    with pytest.raises(ValueError):
        Budget.parse("5-tokens").resolve(10)


def test_str_roundtrip():
    for t in ("1000", "10%", "2e+06-tokens"):
        assert Budget.parse(str(Budget.parse(t))) == Budget.parse(t)


def test_one_point_zero_is_the_whole_input_with_a_warning():
    import warnings

    from datadiet._core._budget import BudgetWarning

    for given in ("1.0", 1.0, "1."):
        with pytest.warns(BudgetWarning, match="100% of the input"):
            assert Budget.parse(given) == Budget("fraction", 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Budget.parse("1") == Budget("examples", 1.0) and Budget.parse(1) == Budget("examples", 1.0)
        assert Budget.parse("0.5") == Budget("fraction", 0.5)
