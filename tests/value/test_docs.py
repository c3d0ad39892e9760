"""The Python examples of docs/value.md and docs/balance.md run as written."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("name", ["value.md", "balance.md"])
def test_doc_examples_run(name, capsys):
    text = (DOCS / name).read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    ns: dict = {}
    for code in blocks:
        exec(compile(code, f"{name}", "exec"), ns)
    out = capsys.readouterr().out
    assert out.strip()
