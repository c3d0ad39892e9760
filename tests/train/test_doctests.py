"""The examples in the train layer's docstrings and in docs/train.md run and say what they show."""

from __future__ import annotations

import doctest
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

MODULES = ["_rs2", "_infobatch", "_group", "_curriculum", "_dynamics", "_torch"]


@pytest.mark.parametrize("mod", MODULES)
def test_docstring_examples(mod):
    if mod == "_torch":
        pytest.importorskip("torch")
    m = importlib.import_module(f"datadiet.train.{mod}")
    res = doctest.testmod(m, optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0


@pytest.mark.slow
def test_docs_examples_run(tmp_path):
    pytest.importorskip("torch")
    doc = Path(__file__).resolve().parents[2] / "docs" / "train.md"
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), re.S)
    assert len(blocks) >= 6
    for code in blocks:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                           env={**os.environ, "HF_HUB_OFFLINE": "1"})
        assert r.returncode == 0, r.stderr[-2000:]
