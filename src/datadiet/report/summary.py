"""Terminal summary of a selection (rich renderables)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["summary_renderables"]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def summary_renderables(title: str, manifest: dict[str, Any], paths: dict[str, Path | str]) -> list[Any]:
    """Tables for counts per reason, per-group counts and scalar metrics.

    Examples
    --------
    >>> rs = summary_renderables("t", {"n_input": 3, "counts": {"kept": 1, "not_sampled": 2}}, {})
    >>> len(rs) >= 1
    True
    """
    from rich.table import Table

    out: list[Any] = []
    n = max(int(manifest.get("n_input", 0)), 1)
    t = Table(title=title, title_justify="left")
    t.add_column("outcome")
    t.add_column("rows", justify="right")
    t.add_column("share", justify="right")
    for reason, count in manifest.get("counts", {}).items():
        t.add_row(reason, f"{count:,}", f"{100 * count / n:.1f}%")
    if manifest.get("total_repeats") is not None and manifest.get("total_repeats") != manifest.get("n_kept"):
        t.add_row("examples with repeats", f"{manifest['total_repeats']:,}", "")
    tw = manifest.get("total_weight")
    if isinstance(tw, (int, float)) and abs(tw - float(manifest.get("n_kept", tw))) > 1e-6 * max(1.0, abs(tw)):
        t.add_row("total weight", _fmt(float(tw)), "")
    out.append(t)
    metrics = manifest.get("metrics", {})
    groups = metrics.get("groups")
    if isinstance(groups, dict) and groups:
        g = Table(title="per group", title_justify="left")
        method = str(manifest.get("method") or "")
        # in a chain (e.g. dedup+balance) the groups were counted on what the first step kept
        first_in = f"input after {method.split('+')[0]}" if "+" in method else "input"
        for c in ("group", first_in, "kept", "with repeats", "weight"):
            g.add_column(c, justify="left" if c == "group" else "right")
        for name, d in list(groups.items())[:50]:
            g.add_row(str(name), f"{d.get('input', 0):,}", f"{d.get('kept', 0):,}",
                      f"{d.get('repeats', 0):,}", _fmt(d.get("weight", 0.0)))
        out.append(g)
    scalars = {k: v for k, v in metrics.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)}
    for k, v in metrics.items():  # one level of nested scalar metrics, e.g. {"coverage": {"k10": 0.9}}
        if isinstance(v, dict) and k != "groups":
            for k2, v2 in list(v.items())[:12]:
                if isinstance(v2, (int, float, str)) and not isinstance(v2, bool):  # e.g. auto.method
                    scalars[f"{k}.{k2}"] = v2
    defaulted = manifest.get("columns_defaulted")
    if defaulted:
        scalars["columns by default"] = ", ".join(f"{r} = column {r!r}" for r in defaulted)
    if scalars or paths:
        m = Table(show_header=False, box=None)
        for k, v in scalars.items():
            m.add_row(k, _fmt(v))
        for k, v in paths.items():
            m.add_row(k, str(v))
        out.append(m)
    return out
