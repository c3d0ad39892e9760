"""What a run has finished: one record per step, keyed by what the step depends on.

A step is done when its outputs exist and its key is unchanged. The key hashes the
step's command and options, the fingerprint of its input and the key of the step
before it, so changing a parameter or the data recomputes that step and every step
after it, and nothing else.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from datadiet.io._atomic import atomic_path

__all__ = ["RunState", "step_key"]


def step_key(command: str, options: dict[str, Any], input_fingerprint: str, previous: str | None) -> str:
    """A stable hash of everything a step's result depends on.

    Examples
    --------
    >>> a = step_key("select", {"budget": 10}, "fp", None)
    >>> a == step_key("select", {"budget": 10}, "fp", None) != step_key("select", {"budget": 11}, "fp", None)
    True
    """
    blob = json.dumps({"command": command, "options": options, "input": input_fingerprint, "previous": previous},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


class RunState:
    """``OUTDIR/run.json``: the key of every finished step, and its time and peak memory."""

    def __init__(self, outdir: Path) -> None:
        self.path = outdir / "run.json"
        self.steps: dict[str, str] = {}
        self.stats: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            try:
                saved = json.loads(self.path.read_text())
                self.steps = dict(saved.get("steps", {}))
                self.stats = dict(saved.get("stats", {}))
            except (json.JSONDecodeError, AttributeError):
                self.steps, self.stats = {}, {}  # a damaged record only means recomputing

    def is_done(self, name: str, key: str, outputs: list[Path]) -> bool:
        return self.steps.get(name) == key and all(p.exists() for p in outputs)

    def mark_done(self, name: str, key: str, **stats: Any) -> None:
        """Record a finished step (with what it cost: ``seconds``, ``peak_rss_mb``)."""
        self.steps[name] = key
        if stats:
            self.stats[name] = stats
        with atomic_path(self.path) as tmp:
            Path(tmp).write_text(json.dumps({"steps": self.steps, "stats": self.stats}, indent=2) + "\n")

    def forget(self, name: str) -> None:
        self.steps.pop(name, None)
