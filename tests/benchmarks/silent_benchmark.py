"""A benchmark that completes but never writes the figure it promises: the runner must report it.

Not a test module and not in benchmarks/: tests/benchmarks/test_smoke.py runs it through
``benchmarks.run --module``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks import record


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _, bench = record.begin(__file__, parser, argv, {})
    return bench.write({"requests": 0, "latency_seconds": []}, headline="latency_seconds_p95")
