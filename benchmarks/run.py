"""`make bench`: run every benchmark module's ``main()`` in turn; each prints and writes its JSON.

    .venv/bin/python -m benchmarks.run [--only NAME ...] [--list]

Each module under ``benchmarks/`` (except this one) is a benchmark; it runs with its own defaults
(its command-line flags are for running it alone). Benchmarks give figures, not pass/fail: a
benchmark that raises is reported and the others still run; the exit code is 1 if any raised.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).parent


def benchmark_names() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.py") if p.stem not in {"run", "__init__"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=benchmark_names(), help="run only these")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(benchmark_names()))
        return 0
    failed: list[str] = []
    for name in args.only or benchmark_names():
        print(f"\n=== benchmarks/{name}.py ===", flush=True)
        started = time.perf_counter()
        saved_argv = sys.argv
        sys.argv = [str(HERE / f"{name}.py")]  # each benchmark parses its own flags: defaults
        try:
            importlib.import_module(f"benchmarks.{name}").main()
        except Exception:
            traceback.print_exc()
            failed.append(name)
        finally:
            sys.argv = saved_argv
        print(f"--- {name}: {time.perf_counter() - started:.1f} s", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
