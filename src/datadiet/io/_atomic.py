"""Atomic writes: write next to the destination, then rename into place."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from datadiet._core._errors import DataError, OutputExistsError

__all__ = ["atomic_path", "check_output_path"]


def check_output_path(path: str | os.PathLike[str], overwrite: bool = False,
                      suffixes: tuple[str, ...] = ()) -> Path:
    """Refuse an output path that exists (unless ``overwrite``), whose folder is missing, or whose
    suffix is not one of ``suffixes`` (when given): all before any work is done."""
    p = Path(path)
    if suffixes and p.suffix.lower() not in suffixes:
        raise DataError(f"output {p} must end in {' or '.join(suffixes)} (the format written); "
                        f"got {p.suffix or 'no suffix'}")
    if p.exists() and not overwrite:
        raise OutputExistsError(f"output {p} already exists; pass --overwrite (overwrite=True) to replace it")
    if p.exists() and p.is_dir():
        raise IsADirectoryError(f"output {p} is a directory; give a file path")
    if not p.parent.exists():
        raise FileNotFoundError(f"folder {p.parent} of output {p} does not exist; create it first")
    return p


def check_report_path(path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """:func:`check_output_path` for an HTML report."""
    return check_output_path(path, overwrite, suffixes=(".html", ".htm"))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only on success.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "out.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "out.txt").read_text()
    'hello'
    """
    dest = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
    try:
        yield tmp
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
