"""Run benchmarks: `python -m bench [name ...] [--record]`.

Each module in this folder with a `main()` is a benchmark; with no name, all
of them run. `--record` appends each report to bench/RESULTS.md.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    folder = Path(__file__).parent
    return sorted(
        info.name
        for info in pkgutil.iter_modules([str(folder)])
        if not info.name.startswith("_")
    )


def main() -> None:
    names = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
    unknown = sorted(set(names) - set(available()))
    if unknown:
        sys.exit(f"unknown benchmark(s) {unknown}; available: {available()}")
    for name in names or available():
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}", flush=True)
        module.main()


if __name__ == "__main__":
    main()
