"""`import datadiet` and the CLI stay light: heavy parts are imported inside the functions that need them."""

import subprocess
import sys

HEAVY = ["torch", "ray", "sentence_transformers", "transformers", "plotly", "sklearn", "model2vec", "datasets"]


def _loaded_after(stmt: str) -> list[str]:
    code = f"import sys; {stmt}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return [m for m in out.strip().split(",") if m]


def test_import_datadiet_is_light():
    assert _loaded_after("import datadiet") == []


def test_cli_import_is_light():
    assert _loaded_after("import datadiet.cli") == []


def test_public_api_is_exported():
    import datadiet

    for name in datadiet.__all__:
        assert hasattr(datadiet, name), name
