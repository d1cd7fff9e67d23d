"""A benchmark that breaks, as one does when the code under it changes: the runner must report it.

Not a test module (pytest does not collect it) and not in benchmarks/: tests/benchmarks/
test_smoke.py runs it through ``benchmarks.run --module``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks import record


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000)
    args, bench = record.begin(__file__, parser, argv, {"accounts": 3})
    figures = {"accounts": args.accounts, "scored": {"acct-0": 71}}
    # The figure it promises reads a key an API change renamed.
    figures["p95"] = figures["scored"]["acct-1"]
    return bench.write(figures, headline="p95")
