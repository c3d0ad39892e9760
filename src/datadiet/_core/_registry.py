"""The method registry: every selector, dedup method, miner and sampler is found here by name.

A family (``"select"``, ``"dedup"``, ``"negatives"``, ``"train"``) maps method
names to classes. A method joins by decorating its class with
``@register("select")``; the CLI, recipes, the docs' methods table and the shared
check suite all read the registry, so nothing else needs editing.
"""

from __future__ import annotations

from typing import Any, TypeVar

__all__ = ["register", "registered", "unregister", "lookup"]

T = TypeVar("T", bound=type)

_REGISTRY: dict[str, dict[str, type]] = {}


def register(family: str) -> Any:
    """Class decorator: register a method under ``cls.method`` in ``family``.

    Examples
    --------
    >>> from datadiet._core import Declared
    >>> @register("doc-example")
    ... class Toy(Declared):
    ...     method = "toy"
    >>> registered("doc-example")["toy"] is Toy
    True
    >>> unregister("doc-example", "toy")
    """

    def deco(cls: T) -> T:
        name = getattr(cls, "method", "")
        if not name:
            raise TypeError(f"{cls.__name__} needs a class attribute 'method' (its registry name)")
        fam = _REGISTRY.setdefault(family, {})
        if name in fam and fam[name] is not cls and fam[name].__qualname__ != cls.__qualname__:
            raise TypeError(f"{family} method {name!r} is registered twice: {fam[name].__name__} and {cls.__name__}")
        fam[name] = cls
        return cls

    return deco


def unregister(family: str, name: str) -> None:
    """Remove a method (used by tests that register a toy method)."""
    _REGISTRY.get(family, {}).pop(name, None)


def registered(family: str) -> dict[str, Any]:
    """The methods of a family, by name (in registration order)."""
    return dict(_REGISTRY.get(family, {}))


def lookup(family: str, name: str) -> type:
    """The class registered as ``name``; a clear error lists the known names."""
    from datadiet._core._errors import ParamError

    fam = _REGISTRY.get(family, {})
    if name not in fam:
        raise ParamError("method", "one of " + ", ".join(map(repr, fam)), name)
    return fam[name]
