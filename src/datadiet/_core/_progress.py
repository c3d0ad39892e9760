"""Progress bars on stderr (rich), shown only when asked for and stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["progress", "set_progress", "progress_enabled"]

_enabled = False


def set_progress(enabled: bool) -> None:
    """Turn progress bars on or off for this process (the CLI turns them on unless ``--quiet``)."""
    global _enabled
    _enabled = bool(enabled)


def progress_enabled() -> bool:
    return _enabled and sys.stderr.isatty()


class _Bar:
    def __init__(self, prog: Any, task: Any) -> None:
        self._prog, self._task = prog, task

    def advance(self, n: float = 1) -> None:
        if self._prog is not None:
            self._prog.advance(self._task, n)


@contextmanager
def progress(description: str, total: float | None = None) -> Iterator[_Bar]:
    """A progress bar context; a no-op when progress is off.

    Examples
    --------
    >>> with progress("reading", total=3) as bar:
    ...     for _ in range(3):
    ...         bar.advance()
    """
    if not progress_enabled():
        yield _Bar(None, None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    ) as prog:
        yield _Bar(prog, prog.add_task(description, total=total))
