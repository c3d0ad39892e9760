"""Shared benchmark helpers: timing, peak memory of a child process, Markdown output."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "out"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    res = fn()
    return time.perf_counter() - t0, res


def run_isolated(code: str, timeout: float = 3600, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``code`` in a fresh Python process; it must print one JSON object last.

    Returns that object plus ``peak_rss_mb`` (the child's maximum resident set size),
    so each measured tool gets its own clean memory figure.
    """
    # VmHWM is the peak of this process image; ru_maxrss would include the parent's peak
    # (Linux carries it across fork + exec).
    prelude = ("import atexit, json as _j\n"
               "from bench._util import peak_rss_mb as _peak\n"
               "atexit.register(lambda: print(_j.dumps({'peak_rss_mb': _peak()})))\n")
    proc = subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True,
                          timeout=timeout, cwd=Path(__file__).parent.parent,
                          env={**os.environ, "PYTHONHASHSEED": "0", **(env or {})})
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    lines = proc.stdout.strip().splitlines()
    res = json.loads(lines[-2])
    res.update(json.loads(lines[-1]))
    return res


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (VmHWM from /proc; ru_maxrss elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_markdown(name: str, text: str) -> Path:
    OUT.mkdir(exist_ok=True)
    p = OUT / f"{name}.md"
    p.write_text(text)
    print(text)
    return p
