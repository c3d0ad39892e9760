"""The methods table in the docs is the one the declarations generate."""

from pathlib import Path

from datadiet.cli._methods import methods_markdown


def test_methods_table_is_up_to_date():
    doc = Path(__file__).resolve().parents[1] / "docs" / "methods.md"
    assert doc.read_text() == methods_markdown(), "run: datadiet methods --markdown > docs/methods.md"


def test_every_registered_method_is_in_the_table():
    from datadiet._core import registered

    text = methods_markdown()
    for fam in ("select", "dedup"):
        for name, cls in registered(fam).items():
            assert f"### `{name}`" in text
            for p in cls.declared():
                assert f"| `{p}` |" in text
