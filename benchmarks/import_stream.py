"""Record imports in bounded memory: peak memory and rows/s of `tenure import accounts` by size.

    .venv/bin/python -m benchmarks.import_stream [--sizes 200000 1000000]

For each size, writes an accounts CSV in Tenure's format (every 10th account the child of one
later in the file, so parents are linked across write batches; two custom columns) and runs
``tenure import accounts FILE --json`` in a fresh process on a fresh embedded SQLite data dir.
Peak memory is the child process's maximum resident set (``getrusage(RUSAGE_CHILDREN)``, reset
per size by running each import from its own helper process); the import must stay under
500 MB at 200,000 rows (issue 17). Writes ``benchmarks/results/import_stream.json`` (headline
``sizes.0.peak_rss_mb``: the smallest size run). Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks import record

SMOKE = {"sizes": [2_000]}
LIMIT_MB = 500


def write_accounts(path: Path, rows: int) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "external_id",
                "name",
                "parent_external_id",
                "segment",
                "employee_count",
                "custom.tier",
                "custom.seats",
            ]
        )
        for i in range(rows):
            parent = f"acct-{i + 7}" if i % 10 == 0 and i + 7 < rows else ""
            writer.writerow(
                [
                    f"acct-{i}",
                    f"Company {i}",
                    parent,
                    ("smb", "mid", "enterprise")[i % 3],
                    10 + i % 5000,
                    ("gold", "silver")[i % 2],
                    i % 250,
                ]
            )


def measure(rows: int, folder: Path) -> dict[str, Any]:
    """Import ``rows`` accounts in a child process; its wall time and peak memory."""
    data = folder / f"data-{rows}"
    data.mkdir(parents=True, exist_ok=True)
    path = folder / f"accounts-{rows}.csv"
    write_accounts(path, rows)
    env = {**os.environ, "TENURE_DATA_DIR": str(data)}
    env.pop("TENURE_DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "tenure.cli.main", "migrate"],
        env=env,
        check=True,
        capture_output=True,
    )
    # A helper process runs the import, so RUSAGE_CHILDREN's maximum is this size's alone.
    helper = (
        "import resource, subprocess, sys, time, json\n"
        "started = time.perf_counter()\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'rc': done.returncode, 'seconds': time.perf_counter() - started,"
        " 'cpu': usage.ru_utime + usage.ru_stime, 'peak_kb': usage.ru_maxrss,"
        " 'stdout': done.stdout, 'stderr': done.stderr[-2000:]}))\n"
    )
    command = [sys.executable, "-m", "tenure.cli.main", "import", "accounts", str(path), "--json"]
    out = subprocess.run(
        [sys.executable, "-c", helper, *command],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout)
    if result["rc"] != 0:
        raise RuntimeError(f"import of {rows} rows failed: {result['stderr']}")
    report = json.loads(result["stdout"])
    peak_mb = result["peak_kb"] / 1024
    return {
        "rows": rows,
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "seconds": round(result["seconds"], 1),
        "rows_per_second": round(rows / result["seconds"]),
        # CPU the import used: on 2 shared cores the wall time mostly measures the others' load.
        "cpu_seconds": round(result["cpu"], 1),
        "rows_per_cpu_second": round(rows / max(result["cpu"], 1e-9)),
        "peak_rss_mb": round(peak_mb, 1),
        "within_500_mb": peak_mb <= LIMIT_MB,
        "inserted": report["inserted"],
    }


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    args, bench = record.begin(__file__, parser, argv, SMOKE)
    folder = bench.scratch("import-stream")
    sizes = []
    for rows in sorted(args.sizes):
        figures = measure(rows, folder)
        sizes.append(figures)
        print(
            f"{rows:>9,} rows  {figures['file_mb']:>7} MB file  {figures['seconds']:>7} s  "
            f"{figures['rows_per_second']:>6,} rows/s  {figures['cpu_seconds']} s CPU "
            f"({figures['rows_per_cpu_second']:,} rows per CPU second)  "
            f"peak {figures['peak_rss_mb']} MB "
            f"({'within' if figures['within_500_mb'] else 'OVER'} {LIMIT_MB} MB)",
            flush=True,
        )
    return bench.write(
        {"sizes": sizes, "limit_mb": LIMIT_MB, "batch_rows": _batch()},
        headline="sizes.0.peak_rss_mb",
    )


def _batch() -> int:
    from tenure.ingest.importer import RECORD_BATCH

    return RECORD_BATCH


if __name__ == "__main__":
    main()
