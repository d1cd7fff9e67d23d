"""Connector syncs at scale: time and peak memory of `tenure connect sync` reading from a vendor's
API faked on loopback (tests/connectors/fake_*.py), through the vendor's own client library.

    .venv/bin/python -m benchmarks.connectors [--vendor salesforce] [--accounts 100000
        --contacts-per-account 10]
    .venv/bin/python -m benchmarks.connectors --vendor hubspot [--accounts 10000 …]
    .venv/bin/python -m benchmarks.connectors --vendor stripe [--accounts 20000]

- salesforce: one owner, ``--accounts`` accounts (every 10th the child of the one before) and
  ``--contacts-per-account`` contacts each; 2,000-record pages as Salesforce's.
- hubspot: one owner, ``--accounts`` companies (every 10th a subsidiary of the one before),
  ``--contacts-per-account`` contacts and one deal each (its primary company by association);
  100-record search pages (HubSpot's reader asks for 100; its search allows 200).
- stripe: ``--accounts`` customers and one subscription each (monthly and yearly, USD and EUR);
  100-object list pages, Stripe's maximum.

Records are modified one second apart over the past weeks, as a real system's are. The sync runs
in a child process on a fresh embedded SQLite data dir (peak memory is its maximum resident set,
``getrusage(RUSAGE_CHILDREN)`` from a helper process); the fake runs in this one, so on a small
machine the two share its cores. A second sync with nothing changed shows the cost of an
incremental run. Writes ``benchmarks/results/connectors[-<vendor>].json``. Figures, not
pass/fail.
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
# Default sizes: Salesforce's the 100,000 accounts + 1M contacts; the others smaller, as
# their fakes sort every record at each page (a loopback fake, not the vendor, would be timed).
DEFAULTS = {"salesforce": (100_000, 10), "hubspot": (10_000, 5), "stripe": (20_000, 0)}
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


def build_portal(companies: int, per_company: int) -> Any:
    """A HubSpot portal: one owner, companies, their contacts and one deal each."""
    from tests.connectors.fake_hubspot import FakePortal

    portal = FakePortal()
    portal.owner(
        {"id": "51234567", "email": "owner@example.com", "firstName": "Olga", "lastName": "Owner"}
    )
    step = per_company + 2
    first = datetime.now(UTC) - timedelta(seconds=companies * step + 60)
    for i in range(companies):
        company, at = str(9_400_000_000 + i), first + timedelta(seconds=i * step)
        portal.put(
            "companies",
            company,
            {
                "name": f"Company {i}",
                "domain": f"c{i}.example",
                "industry": ("MACHINERY", "UTILITIES", "COMPUTER_SOFTWARE")[i % 3],
                "numberofemployees": str(10 + i % 5000),
                "country": "United States",
                "hubspot_owner_id": "51234567",
                "lifecyclestage": "customer",
                "hs_parent_company_id": str(9_400_000_000 + i - 1) if i % 10 == 1 else None,
                "salesforceaccountid": None,
                "createdate": "2022-03-01T10:00:00.000Z",
            },
            at=at,
        )
        for j in range(per_company):
            n = i * per_company + j
            portal.put(
                "contacts",
                str(700_000_000 + n),
                {
                    "firstname": "Pat",
                    "lastname": f"Person {n}",
                    "email": f"p{n}@c{i}.example",
                    "jobtitle": "Admin",
                    "associatedcompanyid": company,
                    "hs_buying_role": "END_USER",
                    "phone": None,
                    "hs_email_optout": "false",
                },
                at=at + timedelta(seconds=j + 1),
            )
        deal = str(18_000_000_000 + i)
        portal.put(
            "deals",
            deal,
            {
                "dealname": f"Company {i} renewal",
                "amount": str(1000 + i % 90_000),
                "deal_currency_code": "USD",
                "closedate": "2027-01-31T17:00:00Z",
                "createdate": "2026-09-12T08:41:07.419Z",
                "dealstage": "contractsent",
                "dealtype": "renewal",
                "hs_deal_stage_probability": "0.9",
                "hs_is_closed": "false",
                "hs_is_closed_won": "false",
                "hs_manual_forecast_category": "COMMIT",
                "closed_lost_reason": None,
                "closed_won_reason": None,
                "description": None,
            },
            at=at + timedelta(seconds=step - 1),
        )
        portal.deal_companies[deal] = [(company, True)]
    return portal


def build_stripe_account(customers: int) -> Any:
    """A Stripe account: customers and one subscription each, monthly/yearly, USD/EUR."""
    from tests.connectors.fake_stripe import FakeStripeAccount
    from tests.connectors.stripe_account import customer, plan, subscription

    account = FakeStripeAccount()
    prices = (
        plan("price_1PUsdMonthly", 4900, "usd", "month", "Team"),
        plan("price_1PEurYearly", 52800, "eur", "year", "Business"),
    )
    first = int(datetime.now(UTC).timestamp()) - 2 * customers - 60
    for i in range(customers):
        price = prices[i % 2]
        created = first + 2 * i
        customer_id = f"cus_Q{i:013d}"
        account.add(
            "customers",
            customer(
                customer_id, f"Company {i}", f"billing@c{i}.example", price["currency"], created
            ),
        )
        account.add(
            "subscriptions",
            subscription(
                f"sub_1P{i:013d}",
                customer_id,
                created + 1,
                price=price,
                quantity=1 + i % 40,
                period_end=created + 1 + (30 if i % 2 == 0 else 365) * 86400,
            ),
        )
    return account


def start_fake(
    vendor: str, accounts: int, per_account: int, folder: Path
) -> tuple[Any, dict[str, str]]:
    """The vendor's fake with its data, and the environment that reaches it."""
    if vendor == "hubspot":
        from tests.connectors.fake_hubspot import FakeHubSpot

        portal = build_portal(accounts, per_account)
        fake: Any = FakeHubSpot(portal, folder, page_size=100)
        return fake, {
            "SSL_CERT_FILE": str(fake.cert),
            "TENURE_HUBSPOT_ACCESS_TOKEN": portal.access_token,
        }
    if vendor == "stripe":
        from tests.connectors.fake_stripe import FakeStripe

        account = build_stripe_account(accounts)
        fake = FakeStripe(account, page_size=100)
        return fake, {"TENURE_STRIPE_API_KEY": account.api_key}
    from tests.connectors.fake_salesforce import FakeSalesforce

    org = build_org(accounts, per_account)
    fake = FakeSalesforce(org, folder, page_size=2000)
    return fake, {
        "REQUESTS_CA_BUNDLE": str(fake.cert),
        "TENURE_SALESFORCE_CLIENT_ID": org.client_id,
        "TENURE_SALESFORCE_CLIENT_SECRET": org.client_secret,
        "TENURE_SALESFORCE_REFRESH_TOKEN": org.refresh_token,
    }


def timed_sync(env: dict[str, str]) -> dict[str, Any]:
    helper = (
        "import resource, subprocess, sys, time, json\n"
        "started = time.perf_counter()\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'rc': done.returncode, 'seconds': time.perf_counter() - started,"
        " 'cpu': usage.ru_utime + usage.ru_stime, 'peak_kb': usage.ru_maxrss,"
        " 'stdout': done.stdout, 'stderr': done.stderr[-2000:]}))\n"
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
        # CPU the syncing process used: on 2 cores shared by a dozen processes, wall time
        # mostly measures the queue; this is the figure to compare across runs.
        "cpu_seconds": round(result["cpu"], 1),
        "records_per_cpu_second": round(read / max(result["cpu"], 0.001)),
        "peak_rss_mb": round(result["peak_kb"] / 1024, 1),
        "status": run["status"],
        "objects": {
            name: {k: o[k] for k in ("read", "inserted", "updated", "unchanged", "rejected")}
            for name, o in run["objects"].items()
        },
        "api_usage": run["api_usage"],
    }


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendor", choices=sorted(DEFAULTS), default="salesforce")
    parser.add_argument("--accounts", type=int, default=None)
    parser.add_argument("--contacts-per-account", type=int, default=None)
    args, bench = record.begin(__file__, parser, argv, SMOKE)
    accounts = args.accounts or DEFAULTS[args.vendor][0]
    per_account = (
        DEFAULTS[args.vendor][1] if args.contacts_per_account is None else args.contacts_per_account
    )
    if args.vendor == "stripe":
        per_account = 0  # customers and subscriptions only
    folder = bench.scratch(f"connectors-{args.vendor}")
    started = time.perf_counter()
    fake, reach = start_fake(args.vendor, accounts, per_account, folder)
    built = round(time.perf_counter() - started, 1)
    try:
        env = {
            **os.environ,
            "TENURE_DATA_DIR": str(folder / "data"),
            "TENURE_SECRET_KEY": "b" * 48,
            **reach,
        }
        env.pop("TENURE_DATABASE_URL", None)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tenure.cli.main",
                "connect",
                args.vendor,
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
            f"{args.vendor} first sync: {first['records_read']:,} records in {first['seconds']} s "
            f"({first['records_per_second']:,}/s; {first['cpu_seconds']} CPU-s, "
            f"{first['records_per_cpu_second']:,}/CPU-s), peak {first['peak_rss_mb']} MB",
            flush=True,
        )
        again = timed_sync(env)
        print(
            f"{args.vendor} second sync (nothing changed): {again['records_read']:,} records "
            f"read in {again['seconds']} s ({again['cpu_seconds']} CPU-s)",
            flush=True,
        )
    finally:
        fake.stop()
    calls = getattr(fake, "api_calls", None)
    return bench.write(
        {
            "vendor": args.vendor,
            "accounts": accounts,
            "contacts": accounts * per_account,
            "fake_built_seconds": built,
            "first_sync": first,
            "second_sync": again,
            "api_calls": calls if calls is not None else len(fake.calls),
        },
        headline="first_sync.records_per_second",
        filename="connectors.json"
        if args.vendor == "salesforce"
        else f"connectors-{args.vendor}.json",
    )


if __name__ == "__main__":
    main()
