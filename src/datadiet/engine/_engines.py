"""Pick an engine by name: the one module that knows both engines."""

from __future__ import annotations

from typing import Any

from datadiet._core._errors import DataError
from datadiet.engine._local import LocalEngine
from datadiet.engine._ray import RayEngine

__all__ = ["get_engine"]


def get_engine(engine: Any = None) -> Any:
    """``None`` / ``"local"`` -> :class:`LocalEngine`; ``"ray"`` -> :class:`RayEngine`; an engine object as is."""
    if engine is None or engine == "local":
        return LocalEngine()
    if engine == "ray":
        return RayEngine()
    if hasattr(engine, "run"):
        return engine
    raise DataError(f"engine must be 'local', 'ray' or an engine object; got {engine!r}")
