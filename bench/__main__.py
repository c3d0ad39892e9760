"""Run benchmarks: ``python -m bench NAME [args...]`` or ``python -m bench all``.

Each benchmark is a module ``bench/<name>.py`` with a ``main(argv: list[str]) -> None``;
results are printed as Markdown and also written to ``bench/out/<name>.md``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main() -> None:
    names = available()
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        print("available:", ", ".join(names))
        return
    name, argv = sys.argv[1], sys.argv[2:]
    todo = names if name == "all" else [name]
    for n in todo:
        if n not in names:
            sys.exit(f"unknown benchmark {n!r}; available: {', '.join(names)}")
        importlib.import_module(f"bench.{n}").main(argv)


if __name__ == "__main__":
    main()
