"""Parameters declared once.

A method lists its parameters as :class:`Param` objects in the class attribute
``params`` (the way scikit-learn's ``_parameter_constraints`` does). From that
one declaration come the constructor (keyword-only, stored untouched), its
signature and the "Parameters" section of the docstring, validation with one
message format, the manifest's parameters, the CLI options with their help, and
the docs' methods table. Base classes declare the parameters every method of the
family shares (``budget``, ``seed`` ...); a subclass may re-declare one to change
its default or help.

Examples
--------
>>> class Toy(Declared):
...     '''A toy method.'''
...     params = (Param("alpha", "float", 1.0, "temperature exponent", low=0),
...               Param("mode", "choice", "down", "what to do", choices=("down", "up")))
>>> t = Toy(alpha=0.5)
>>> t.get_params()
{'alpha': 0.5, 'mode': 'down'}
>>> Toy(alpha=-1).validate_params()
Traceback (most recent call last):
...
datadiet._core._errors.ParamError: Toy: alpha must be a number >= 0; got -1
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from datadiet._core._errors import ParamError, ParamTypeError

__all__ = ["Declared", "Param", "REQUIRED", "jsonable"]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: Default of a parameter that must be given.
REQUIRED: Any = _Required()

KINDS = ("int", "float", "str", "bool", "choice", "budget", "seed", "mapping", "object", "any")


@dataclass(frozen=True)
class Param:
    """One parameter of a method.

    Parameters
    ----------
    name : str
        Python name; the CLI option is ``--name`` with ``_`` written as ``-``.
    kind : {"int", "float", "str", "bool", "choice", "budget", "seed", "mapping", "object", "any"}
        What values are allowed (``mapping``: names to numbers, e.g. per-group quotas).
    default : object
        Default value, or ``REQUIRED``.
    help : str
        One line, shown by ``--help`` and in the docs.
    choices : tuple
        Allowed values of a ``choice``.
    low, high : float, optional
        Bounds of an ``int`` / ``float`` (inclusive unless ``low_open`` / ``high_open``).
    none : bool
        ``None`` is allowed too.
    also : tuple
        Other accepted values: literals (``"auto"``) or types (``NearDedup``).
    positional : bool
        May also be given by position (``RS2Sampler(1000, 0.1)``).
    cli : bool
        Exposed as a CLI option (objects and arrays are not).
    value_type : type
        Type of the values of a ``mapping`` (``int`` or ``float``).
    metavar : str, optional
        Placeholder shown by ``--help``.
    aliases : tuple of str
        Older CLI spellings still accepted (``--clusters`` for ``--n-clusters``).
    """

    name: str
    kind: str
    default: Any = REQUIRED
    help: str = ""
    choices: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    none: bool = False
    also: tuple[Any, ...] = ()
    positional: bool = False
    cli: bool = True
    value_type: type = float
    metavar: str | None = None
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Param {self.name!r}: kind must be one of {KINDS}; got {self.kind!r}")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    # --- description -----------------------------------------------------
    def _range(self) -> str:
        lo, hi = self.low, self.high
        if lo is not None and hi is not None:
            return f" in {'(' if self.low_open else '['}{lo:g}, {hi:g}{')' if self.high_open else ']'}"
        if lo is not None:
            return f" {'>' if self.low_open else '>='} {lo:g}"
        if hi is not None:
            return f" {'<' if self.high_open else '<='} {hi:g}"
        return ""

    def describe(self) -> str:
        """What is allowed, in words (the middle of every error message)."""
        base = {
            "int": "an integer" + self._range(),
            "float": "a number" + self._range(),
            "str": "a string",
            "bool": "True or False",
            "choice": "one of " + ", ".join(map(repr, self.choices)),
            "budget": "a budget: a number of examples ('1000'), a fraction ('10%') or tokens ('5M-tokens')",
            "seed": "an int >= 0, a numpy Generator or None",
            "mapping": f"a mapping of names to {'integers' if self.value_type is int else 'numbers'}",
            "object": "an object",
            "any": "anything",
        }[self.kind]
        extras = [repr(a) if not isinstance(a, type) else f"a {a.__name__}" for a in self.also]
        if self.none:
            extras.append("None")
        return " or ".join([base, *extras]) if extras else base

    # --- validation ------------------------------------------------------
    def check(self, value: Any, owner: str = "") -> None:
        """Raise :class:`ParamError` / :class:`ParamTypeError` unless ``value`` is allowed."""
        if value is None and (self.none or self.kind in ("seed", "any")):
            return
        for a in self.also:
            if isinstance(a, type) and isinstance(value, a) or not isinstance(a, type) and _same(value, a):
                return
        if self.kind == "budget":
            from datadiet._core._budget import Budget

            try:
                Budget.parse(value)
            except (TypeError, ValueError) as e:
                cls_ = ParamTypeError if isinstance(e, TypeError) else ParamError
                raise cls_(self.name, f"{self.describe()} ({e})", value, owner) from None
            return
        ok, wrong_type = self._accepts(value)
        if not ok:
            cls = ParamTypeError if wrong_type else ParamError
            raise cls(self.name, self.describe(), value, owner)

    def _accepts(self, v: Any) -> tuple[bool, bool]:
        """(allowed, failed because of its type)."""
        k = self.kind
        if k in ("int", "float"):
            types: tuple[type, ...] = (int, np.integer) if k == "int" else (int, float, np.integer, np.floating)
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, types):
                return False, True
            x = float(v)  # type: ignore[arg-type]
            return (math.isfinite(x) and self._in_range(x)), False
        if k == "str":
            return isinstance(v, str), not isinstance(v, str)
        if k == "bool":
            return isinstance(v, (bool, np.bool_)), True
        if k == "choice":
            return any(_same(v, c) for c in self.choices), False
        if k == "seed":
            if isinstance(v, np.random.Generator):
                return True, False
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                return False, True
            return bool(v >= 0), False
        if k == "mapping":
            if not isinstance(v, Mapping):
                return False, True
            num = (int, np.integer) if self.value_type is int else (int, float, np.integer, np.floating)
            good = all(isinstance(x, num) and not isinstance(x, bool) and (x >= 0 or self.value_type is not int)
                       for x in v.values())
            return good, False
        return True, False  # object / any: types are given through ``also``

    def _in_range(self, x: float) -> bool:
        if self.low is not None and (x <= self.low if self.low_open else x < self.low):
            return False
        return not (self.high is not None and (x >= self.high if self.high_open else x > self.high))


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same kind (numbers compare by value, ``True`` is not ``1``)."""
    num = (int, float, np.integer, np.floating)
    if isinstance(a, (bool, np.bool_)) or isinstance(b, (bool, np.bool_)):
        return type(a) is type(b) and a == b
    if isinstance(a, num) and isinstance(b, num):
        return bool(a == b)
    return type(a) is type(b) and isinstance(a, (str, bytes, tuple)) and a == b


def jsonable(value: Any) -> Any:
    """A parameter value as it is written into a manifest."""
    from datadiet._core._budget import Budget

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, Budget):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.random.Generator):
        return "numpy.random.Generator"
    if isinstance(value, Declared):
        return {"class": type(value).__name__, **value.manifest_params()}
    if isinstance(value, np.ndarray):
        return f"array of shape {list(value.shape)}"
    return repr(value)


class Declared:
    """Base of every method: the constructor, validation and introspection come from ``params``.

    Subclasses set ``params`` (their own :class:`Param` declarations, added to
    those of their bases), and optionally ``method`` (registry name),
    ``summary`` (one line) and ``example`` (a CLI example shown by ``--help``).
    """

    params: ClassVar[tuple[Param, ...]] = ()
    method: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    example: ClassVar[str] = ""

    if TYPE_CHECKING:  # declared parameters become attributes

        def __getattr__(self, name: str) -> Any: ...

    @classmethod
    def declared(cls) -> dict[str, Param]:
        """All parameters of the class, bases first; a re-declaration replaces the base's."""
        out: dict[str, Param] = {}
        for klass in reversed(cls.__mro__):
            for p in klass.__dict__.get("params", ()):
                out.pop(p.name, None)
                out[p.name] = p
        return out

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        decl = cls.declared()
        sig_params = []
        for p in sorted(decl.values(), key=lambda p: not p.positional):
            kind = inspect.Parameter.POSITIONAL_OR_KEYWORD if p.positional else inspect.Parameter.KEYWORD_ONLY
            default = inspect.Parameter.empty if p.default is REQUIRED else p.default
            sig_params.append(inspect.Parameter(p.name, kind, default=default))
        try:
            cls.__signature__ = inspect.Signature(sig_params)  # type: ignore[attr-defined]
        except ValueError:  # a required positional after an optional one: keep the plain signature
            pass
        if cls.__doc__ and decl and "Parameters\n" not in cls.__doc__:
            cls.__doc__ = _with_parameters(cls.__doc__, decl)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        decl = cls.declared()
        positional = [p for p in decl.values() if p.positional]
        if len(args) > len(positional):
            names = ", ".join(p.name for p in positional) or "none"
            raise TypeError(f"{cls.__name__}() takes {len(positional)} positional parameter(s) ({names}); "
                            f"got {len(args)}: pass the others by name")
        values = {p.name: a for p, a in zip(positional, args)}
        for k, v in kwargs.items():
            if k not in decl:
                raise TypeError(f"{cls.__name__}() got an unexpected parameter {k!r}; "
                                f"its parameters are: {', '.join(decl)}")
            if k in values:
                raise TypeError(f"{cls.__name__}() got {k!r} twice (by position and by name)")
            values[k] = v
        for p in decl.values():
            if p.name not in values:
                if p.default is REQUIRED:
                    raise TypeError(f"{cls.__name__}() needs the parameter {p.name!r} ({p.help})")
                values[p.name] = p.default
            setattr(self, p.name, values[p.name])

    # --- introspection ---------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The declared parameters, as given (defaults filled in)."""
        return {k: getattr(self, k) for k in type(self).declared()}

    def set_params(self, **params: Any) -> Declared:
        """Set declared parameters (unknown names raise ``TypeError``); returns ``self``."""
        decl = type(self).declared()
        for k, v in params.items():
            if k not in decl:
                raise TypeError(f"{type(self).__name__} has no parameter {k!r}; its parameters are: {', '.join(decl)}")
            setattr(self, k, v)
        return self

    def validate_params(self) -> None:
        """Check every declared parameter (one message format), then the method's own ``_check_params``."""
        owner = type(self).__name__
        for p in type(self).declared().values():
            p.check(getattr(self, p.name), owner)
        self._check_params()

    def _check_params(self) -> None:
        """Constraints between parameters (override; raise :class:`ParamError`)."""

    def manifest_params(self) -> dict[str, Any]:
        """The parameters as written into a manifest (JSON values)."""
        return {k: jsonable(v) for k, v in self.get_params().items()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def _with_parameters(doc: str, decl: dict[str, Param]) -> str:
    """Insert a numpydoc "Parameters" section made from the declarations before "Examples"."""
    lines = ["Parameters", "----------"]
    for p in decl.values():
        default = "required" if p.default is REQUIRED else f"default {p.default!r}"
        lines += [f"{p.name} : {p.describe()}, {default}", f"    {p.help}"]
    text = inspect.cleandoc(doc)
    block = "\n".join(lines) + "\n\n"
    idx = text.find("Examples\n--------")
    if idx < 0:
        return text.rstrip() + "\n\n" + block
    return text[:idx] + block + text[idx:]
