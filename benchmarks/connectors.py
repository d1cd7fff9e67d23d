"""Salesforce sync at scale: time and peak memory of `tenure connect sync` reading accounts and
contacts from Salesforce's REST API faked on loopback (tests/connectors/fake_salesforce.py).

    .venv/bin/python -m benchmarks.connectors [--accounts 100000 --contacts-per-account 10]

The fake org holds one owner, ``--accounts`` accounts (every 10th the child of the one before)
and ``--contacts-per-account`` contacts each; the fake pages 2,000 records as Salesforce does.
The sync runs in a child process on a fresh embedded SQLite data dir (peak memory is its maximum
resident set, ``getrusage(RUSAGE_CHILDREN)`` from a helper process); the fake runs in this one,
so on a small machine the two share its cores. A second sync with nothing changed shows the cost
of an incremental run. Writes ``benchmarks/results/connectors.json``. Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import record

SMOKE = {"accounts": 200, "contacts_per_account": 2}
OWNER = "0055e000001OwnAAAS"


def sf_id(prefix: str, number: int) -> str:
    """An 18-character id (the suffix need not be the case-safe one: ids are taken as given)."""
    return f"{prefix}5e{number:010d}AAA"


def build_org(accounts: int, per_account: int) -> Any:
    """Records modified one second apart over the past weeks, as a real org's are (all stamped in
    the same second, an unchanged second sync re-read every record of the boundary second)."""
    from tests.connectors.fake_salesforce import FakeOrg

    org = FakeOrg()
    first = datetime.now(UTC) - timedelta(seconds=accounts * (per_account + 1) + 60)
    org.put(
        "User",
        {
            "Id": OWNER,
            "Email": "owner@example.com",
            "FirstName": "Olga",
            "LastName": "Owner",
            "IsActive": True,
            "ManagerId": None,
        },
    )
    for i in range(accounts):
        org.put(
            "Account",
            {
                "Id": sf_id("001", i),
                "Name": f"Company {i}",
                "ParentId": sf_id("001", i - 1) if i % 10 == 1 else None,
                "Industry": ("Energy", "Retail", "Technology")[i % 3],
                "NumberOfEmployees": 10 + i % 5000,
                "BillingCountry": "United States",
                "OwnerId": OWNER,
                "Type": "Customer - Direct",
                "AnnualRevenue": 1.5e6 + i,
                "CreatedDate": "2022-03-01T10:00:00.000+0000",
            },
            at=first + timedelta(seconds=i * (per_account + 1)),
        )
        for j in range(per_account):
            n = i * per_account + j
            org.put(
                "Contact",
                {
                    "Id": sf_id("003", n),
                    "AccountId": sf_id("001", i),
                    "FirstName": "Pat",
                    "LastName": f"Person {n}",
                    "Email": f"p{n}@c{i}.example",
                    "Title": "Admin",
                },
                at=first + timedelta(seconds=i * (per_account + 1) + j + 1),
            )
    return org


def timed_sync(env: dict[str, str]) -> dict[str, Any]:
    helper = (
        "import resource, subprocess, sys, time, json\n"
        "started = time.perf_counter()\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps({'rc': done.returncode, 'seconds': time.perf_counter() - started,"
        " 'peak_kb': peak, 'stdout': done.stdout, 'stderr': done.stderr[-2000:]}))\n"
    )
    command = [sys.executable, "-m", "tenure.cli.main", "connect", "sync", "--json"]
    out = subprocess.run(
        [sys.executable, "-c", helper, *command],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout)
    if result["rc"] != 0:
        raise RuntimeError(f"sync failed: {result['stderr']}{result['stdout'][-2000:]}")
    (run,) = json.loads(result["stdout"])
    read = sum(o["read"] for o in run["objects"].values())
    return {
        "seconds": round(result["seconds"], 1),
        "records_read": read,
        "records_per_second": round(read / result["seconds"]),
        "peak_rss_mb": round(result["peak_kb"] / 1024, 1),
        "status": run["status"],
        "objects": {
            name: {k: o[k] for k in ("read", "inserted", "updated", "unchanged", "rejected")}
            for name, o in run["objects"].items()
        },
        "api_usage": run["api_usage"],
    }


def main(argv: list[str] | None = None) -> Path:
    from tests.connectors.fake_salesforce import FakeSalesforce

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--contacts-per-account", type=int, default=10)
    args, bench = record.begin(__file__, parser, argv, SMOKE)
    folder = bench.scratch("connectors")
    started = time.perf_counter()
    org = build_org(args.accounts, args.contacts_per_account)
    built = round(time.perf_counter() - started, 1)
    fake = FakeSalesforce(org, folder, page_size=2000)
    try:
        env = {
            **os.environ,
            "TENURE_DATA_DIR": str(folder / "data"),
            "TENURE_SECRET_KEY": "b" * 48,
            "REQUESTS_CA_BUNDLE": str(fake.cert),
            "TENURE_SALESFORCE_CLIENT_ID": org.client_id,
            "TENURE_SALESFORCE_CLIENT_SECRET": org.client_secret,
            "TENURE_SALESFORCE_REFRESH_TOKEN": org.refresh_token,
        }
        env.pop("TENURE_DATABASE_URL", None)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tenure.cli.main",
                "connect",
                "salesforce",
                "--url",
                fake.url,
                "--no-check",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        first = timed_sync(env)
        print(
            f"first sync: {first['records_read']:,} records in {first['seconds']} s "
            f"({first['records_per_second']:,}/s), peak {first['peak_rss_mb']} MB",
            flush=True,
        )
        again = timed_sync(env)
        print(f"second sync (nothing changed): {again['seconds']} s", flush=True)
    finally:
        fake.stop()
    return bench.write(
        {
            "accounts": args.accounts,
            "contacts": args.accounts * args.contacts_per_account,
            "org_built_seconds": built,
            "first_sync": first,
            "second_sync": again,
            "api_calls": fake.api_calls,
        },
        headline="first_sync.records_per_second",
    )


if __name__ == "__main__":
    main()
