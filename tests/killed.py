"""A stand-in for a run killed part way: the wrapped function raises ``KeyboardInterrupt`` on one call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class KilledOnCall:
    """Calls ``real``, except that call number ``at`` raises ``KeyboardInterrupt``; ``calls`` counts them.

    Set ``calls`` negative after the kill to count what a resumed run computes again.
    """

    def __init__(self, real: Callable[..., Any], at: int) -> None:
        self.real, self.at, self.calls = real, at, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt  # the run is killed here
        return self.real(*args, **kwargs)
