"""Shared CLI pieces: role options, error handling, the terminal summary."""

from __future__ import annotations

import functools
import sys
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from datadiet._core import DatadietError, DataError, ParamError, set_progress
from datadiet.signals import Columns

__all__ = ["role_params", "read_params", "role_options", "columns_from", "read_options", "source_from",
           "common_options", "user_errors", "print_summary", "USER_ERRORS", "engine_params", "engine_options",
           "engine_from", "engine_session"]

F = TypeVar("F", bound=Callable[..., Any])

#: Exceptions that mean "the user asked for something impossible": one line, exit 2.
#: Anything else is a bug: exit 1, the traceback and a request to report it.
USER_ERRORS = (DatadietError, FileNotFoundError, FileExistsError, PermissionError, IsADirectoryError,
               NotADirectoryError)

REPORT_BUG = "this is a bug in datadiet; please report it with the command and the traceback above"


def read_params() -> list[click.Option]:
    """``--encoding --on-bad-encoding --on-null``: how to read text, the same in every command."""
    return [
        click.Option(["--encoding"], metavar="CODEC",
                     help="Encoding of JSONL/CSV input (default utf-8), e.g. latin-1 or cp1252."),
        click.Option(["--on-bad-encoding"], type=click.Choice(["error", "replace", "skip"]),
                     help="Bytes invalid in the encoding: error naming file and line (default), "
                          "replace them with U+FFFD, or skip their line."),
        click.Option(["--on-null"], type=click.Choice(["error", "skip", "empty"]),
                     help="Rows whose text is null: skip them (default; reason 'null_text' in the selection), "
                          "treat the text as empty, or stop with an error."),
    ]


def read_options(kw: dict[str, Any]) -> dict[str, Any]:
    """``open_source`` keyword arguments from :func:`read_params` values (unset ones omitted)."""
    return {k: kw[k] for k in ("encoding", "on_bad_encoding") if kw.get(k) is not None}


def source_from(input: Any, kw: dict[str, Any]) -> Any:
    """``open_source(input)`` with the ``--encoding`` / ``--on-bad-encoding`` options of ``kw``."""
    from datadiet.io import open_source

    return open_source(input, **read_options(kw))


def role_params() -> list[click.Option]:
    """``--id --text --label --group --score --vectors --tokens`` (+ :func:`read_params`) as click options."""
    return [
        click.Option(["--id", "id_col"], metavar="COL", help="Column of unique ids (default: assign '<file>:<row>')."),
        click.Option(["--text", "text_col"], metavar="COL", help="Text column."),
        click.Option(["--label", "label_col"], metavar="COL", help="Label column (class)."),
        click.Option(["--group", "group_col"], metavar="COL", help="Group column (domain, language, cluster...)."),
        click.Option(["--score", "score_cols"], metavar="COL", multiple=True, help="Score column (repeatable)."),
        click.Option(["--vectors", "vectors_col"], metavar="COL", help="Column of float lists (embeddings)."),
        click.Option(["--tokens", "tokens_col"], metavar="COL",
                     help="Token-count column (default: estimate from --text)."),
        *read_params(),
    ]


def role_options(f: F) -> F:
    """Decorator adding :func:`role_params` to a click command function."""
    f.__dict__.setdefault("__click_params__", []).extend(reversed(role_params()))
    return f


def columns_from(kw: dict[str, Any], source: Any = None) -> Columns:
    """The role options as :class:`Columns`; given the opened ``source``, ``id`` / ``text`` default to
    columns so named (as ``load_signals`` does; pass it whenever the command uses ``columns.text`` itself)."""
    cols = Columns(id=kw.get("id_col"), text=kw.get("text_col"), label=kw.get("label_col"),
                   group=kw.get("group_col"), scores=tuple(kw.get("score_cols") or ()),
                   vectors=kw.get("vectors_col"), tokens=kw.get("tokens_col"),
                   on_null=kw.get("on_null") or "skip")
    if source is not None:
        cols, _ = cols.with_defaults(source.column_names)
    return cols


def engine_params(local_only: bool = False) -> list[click.Option]:
    """``--engine --address --num-cpus --object-store-memory --workers``: the options of every command
    that can run its passes on Ray."""
    note = " This method runs on the local engine only." if local_only else ""
    return [
        click.Option(["--engine"], type=click.Choice(["local", "ray"]), default="local", show_default=True,
                     help="Run the passes in-process, or on Ray Data (one task per shard; same result)." + note),
        click.Option(["--address"], metavar="ADDR",
                     help="With --engine ray: the cluster, ray://HOST:PORT (Ray Client), HOST:PORT or auto "
                          "(default: RAY_ADDRESS, else a local Ray)."),
        click.Option(["--num-cpus"], type=click.IntRange(min=1), metavar="N",
                     help="With --engine ray and no --address: CPUs of the local Ray (default: all)."),
        click.Option(["--object-store-memory"], metavar="SIZE",
                     help="With --engine ray and no --address: object store of the local Ray, e.g. 512M, 4G "
                          "(default 256M)."),
        click.Option(["--workers"], type=click.IntRange(min=1), metavar="N",
                     help="With --engine ray: actors running the passes, one CPU each (default: the cluster's CPUs, "
                          "at most one per file)."),
    ]


def engine_options(f: F) -> F:
    """Decorator adding :func:`engine_params` to a click command function."""
    f.__dict__.setdefault("__click_params__", []).extend(reversed(engine_params()))
    return f


def _size(text: str) -> int:
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    num, unit = (t[:-1], t[-1]) if t and t[-1] in units else (t, "")
    try:
        value = float(num)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise DataError(f"cannot read --object-store-memory {text!r}: write a size such as 512M or 4G")
    return int(value * units[unit])


def engine_from(kw: dict[str, Any]) -> Any:
    """The engine the options name: ``"local"``, or a configured :class:`~datadiet.engine.RayEngine`.

    Pops the engine options from ``kw``; Ray settings without ``--engine ray`` are refused.
    """
    from datadiet.engine import RayEngine

    engine = kw.pop("engine", None) or "local"
    opts = {"address": kw.pop("address", None), "num_cpus": kw.pop("num_cpus", None),
            "object_store_memory": kw.pop("object_store_memory", None), "concurrency": kw.pop("workers", None)}
    flags = {"address": "--address", "num_cpus": "--num-cpus", "object_store_memory": "--object-store-memory",
             "concurrency": "--workers"}
    given = [k for k, v in opts.items() if v is not None]
    if engine == "local":
        if given:
            raise DataError(f"{flags[given[0]]} sets up the Ray engine; add --engine ray (or drop {flags[given[0]]})")
        return "local"
    if opts["address"] is not None:
        for k in ("num_cpus", "object_store_memory"):
            if opts[k] is not None:
                raise DataError(f"{flags[k]} sizes a local Ray, but --address joins an existing cluster; drop one")
    if opts["object_store_memory"] is not None:
        opts["object_store_memory"] = _size(str(opts["object_store_memory"]))
    return RayEngine(**{k: v for k, v in opts.items() if v is not None})


def engine_session(engine: Any) -> Any:
    """One Ray session around every pass of a command (a no-op context on the local engine)."""
    from contextlib import nullcontext

    return engine.session() if hasattr(engine, "session") else nullcontext()


def quiet_param() -> click.Option:
    return click.Option(["--quiet", "-q"], is_flag=True, help="No progress bars and no summary.")


def common_options(f: F) -> F:
    """``--quiet`` (no progress bars or summary)."""
    f.__dict__.setdefault("__click_params__", []).append(quiet_param())
    return f


_SHOWN: set[str] = set()  # datadiet warnings shown by the running command: each once


def _one_line_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
                      line: Any = None) -> None:
    if getattr(category, "__module__", "").startswith("datadiet"):
        text = str(message).splitlines()[0]
        if text not in _SHOWN:
            _SHOWN.add(text)
            click.echo(f"warning: {text}", err=True)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _message(e: BaseException) -> str:
    if isinstance(e, ParamError):
        msg = e.format(flags=True)
    else:
        msg = str(e)
    if isinstance(e, FileNotFoundError) and e.filename and not msg.startswith(str(e.filename)):
        msg = f"{e.filename}: {e.strerror or msg}"
    return msg.strip().splitlines()[0] if msg.strip() else type(e).__name__


def debug_param() -> click.Option:
    return click.Option(["--debug"], is_flag=True, help="Show the traceback of errors too.")


def user_errors(f: F) -> F:
    """One line on stderr and exit 2 for user errors; a traceback and exit 1 for bugs.

    Adds ``--debug`` to the command: with it, user errors show their traceback too.
    """

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = kwargs.pop("debug", False)
        set_progress(not kwargs.get("quiet", False))
        try:
            with warnings.catch_warnings():
                warnings.showwarning = _one_line_warning  # datadiet's warnings: one line, no source
                _SHOWN.clear()
                return f(*args, **kwargs)
        except USER_ERRORS as e:
            if debug:
                traceback.print_exc()
            click.echo(f"error: {_message(e)}", err=True)
            sys.exit(2)
        except MemoryError:
            click.echo("error: out of memory; use a smaller --batch-size or a smaller input", err=True)
            sys.exit(2)
        except (click.exceptions.Exit, click.ClickException, KeyboardInterrupt):
            raise
        except Exception:
            traceback.print_exc()
            click.echo(f"error: {REPORT_BUG}", err=True)
            sys.exit(1)

    wrapper.__dict__.setdefault("__click_params__", []).append(debug_param())
    return wrapper  # type: ignore[return-value]


def print_summary(title: str, manifest: dict[str, Any], paths: dict[str, Path | str] | None = None,
                  quiet: bool = False) -> None:
    """A compact rich table of counts per reason and metrics."""
    if quiet:
        return
    from rich.console import Console

    from datadiet.report.summary import summary_renderables

    console = Console(stderr=False, soft_wrap=True)
    for r in summary_renderables(title, manifest, paths or {}):
        console.print(r)
