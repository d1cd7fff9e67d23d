"""`tenure simulate --as-exports DIR`: the simulated company as its tools would hand it over.

The simulation runs into a staging folder (the ``--out`` Parquet files); this module then writes
what a CS team would export from each system, in that system's format, with the dirt real exports
carry (``Dirt``). Which door imports each file is in ``DOORS`` and in DIR/README.md:

- ``salesforce/``: Data Loader extracts — Account, Contact, User, Case (UPPERCASE headers, every
  value quoted, CRLF rows, GMT date-times, 18-character ids).
- ``stripe/``: Customer and Subscription API objects as JSON lines (``stripe … list | jq -c``); each
  carries the Salesforce Account Id in ``metadata.salesforce_account_id``, as Stripe's docs advise
  for one's own ids. Stripe holds the subscriptions live on the as-of date and those that ended in
  a cancellation; the terms that ended in a renewal and the renewals signed for later are in the
  CS team's renewal tracker (``tenure/contracts.jsonl``).
- ``segment/usage.jsonl``: product usage as Segment-spec track calls, ``context.groupId`` being
  the Salesforce Account Id the product was given.
- ``tenure/``: what no vendor export carries, in Tenure's own import format (JSON lines): the CS
  fields of accounts and contacts, the renewal tracker, the feature catalog, survey answers,
  touchpoints, and the CS team.

``ids.csv`` names the simulator's id of every exported record (no import reads it; tests compare
the two paths with it). The truth stays in ``truth/``, as with ``--out``, in the exported ids.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tenure.errors import Conflict, InvalidInput
from tenure.money import minor_units
from tenure.simulate.config import SimulationConfig
from tenure.simulate.interventions import Interventions
from tenure.simulate.service import META_FILE, Progress, SimulationResult, simulate_to_files
from tenure.simulate.vendor_ids import (
    ACCOUNT,
    CASE,
    CONTACT,
    USER,
    salesforce_long_id,
    salesforce_short_id,
    stripe_id,
)

# A ticket's priority as Salesforce's Case picklist names it (Critical is a common addition).
CASE_PRIORITY = {"low": "Low", "normal": "Medium", "high": "High", "urgent": "Critical"}

DIRT_KINDS: dict[str, str] = {
    "cp1252": "salesforce/Account.csv in Windows' default encoding (cp1252), as Data Loader "
    "writes it on Windows unless told to write UTF-8",
    "bom": "salesforce/Contact.csv re-saved from Excel as 'CSV UTF-8': a byte-order mark",
    "short_ids": "every 7th Salesforce id in Contact.csv (AccountId), Account.csv (ParentId) and "
    "Stripe metadata in its 15-character form, as pasted from a record's URL",
    "refused_rows": "rows an import must refuse: an Account without a name, a Contact of a "
    "deleted Account, a subscription on a metered price without an amount, a usage event "
    "without a user",
    "parent_after_child": "a holding company listed after its subsidiary in Account.csv",
}

# file (relative to DIR) → (entity, shipped mapping or None for Tenure's own format), in the
# order an import needs: what a row references comes first.
DOORS: dict[str, tuple[str, str | None]] = {
    "salesforce/User.csv": ("users", "salesforce-users"),
    "salesforce/Account.csv": ("accounts", "salesforce-accounts"),
    "tenure/accounts.jsonl": ("accounts", None),
    "stripe/customers.jsonl": ("accounts", "stripe-customers"),
    "salesforce/Contact.csv": ("contacts", "salesforce-contacts"),
    "tenure/contacts.jsonl": ("contacts", None),
    "tenure/features.jsonl": ("features", None),
    "stripe/subscriptions.jsonl": ("contracts", "stripe-subscriptions-salesforce"),
    "tenure/contracts.jsonl": ("contracts", None),
    "tenure/surveys.jsonl": ("surveys", None),
    "salesforce/Case.csv": ("tickets", "salesforce-cases"),
    "tenure/touchpoints.jsonl": ("touchpoints", None),
}
USAGE_FILE = "segment/usage.jsonl"
USERS_FILE = "tenure/users.jsonl"

COUNTRIES = {
    "north_america": ("United States", "Canada"),
    "emea": ("Germany", "France", "United Kingdom", "Netherlands"),
    "apac": ("Australia", "Singapore", "Japan"),
    "latam": ("Brazil", "Mexico"),
}
# cp1252 has ’ and –; a UTF-8 reading of those bytes fails, which is how the encoding is told.
DESCRIPTION = "Renewal owner’s notes – see the success plan"
# The context every call carries: the sending library (Segment's Node.js source).
LIBRARY = ',"context":{"library":{"name":"analytics-node","version":"2.1.0"}}'
STRIPE_INTERVALS = {"monthly": ("month", 1), "annual": ("year", 1)}


@dataclass(frozen=True)
class Dirt:
    """Which kinds of dirt the exports carry (all of ``DIRT_KINDS`` by default)."""

    kinds: frozenset[str] = frozenset(DIRT_KINDS)

    def __contains__(self, kind: object) -> bool:
        return kind in self.kinds

    @classmethod
    def parse(cls, text: str) -> Dirt:
        """``all``, ``none`` or a comma-separated list of ``DIRT_KINDS``."""
        words = {w.strip() for w in text.split(",") if w.strip()}
        if words <= {"all"}:
            return cls()
        if words == {"none"}:
            return cls(frozenset())
        unknown = words - set(DIRT_KINDS)
        if unknown:
            raise InvalidInput(
                f"unknown dirt {', '.join(sorted(unknown))}: give all, none or any of "
                f"{', '.join(DIRT_KINDS)}"
            )
        return cls(frozenset(words))


@dataclass(frozen=True)
class ExportsResult:
    simulation: SimulationResult
    # file (relative to the folder) → data rows written
    files: dict[str, int]
    # the rows planted to be refused, as "file: why"
    planted: list[str] = field(default_factory=list)


def simulate_as_exports(
    config: SimulationConfig,
    out: Path,
    dirt: Dirt | None = None,
    progress: Progress | None = None,
    interventions: Interventions | None = None,
    *,
    truth_beside: Path | None = None,
) -> ExportsResult:
    """Simulate, then export. The truth and simulation.json go to ``truth_beside`` (default
    ``out``), their account and contract ids the exported ones, so evaluation reads a base
    built from the exports as it reads one loaded directly (``truth_beside`` = the data dir)."""
    if out.exists() and any(out.iterdir()):
        raise Conflict(f"{out}: not empty; give --as-exports a new or empty folder")
    staging = out / ".simulated"
    simulated = simulate_to_files(config, staging, progress, interventions)
    beside = truth_beside or out
    beside.mkdir(parents=True, exist_ok=True)
    try:
        exporter = _Exporter(staging, out, dirt or Dirt(), simulated.as_of)
        exporter.write()
        exporter.write_truth(staging / "truth", beside / "truth")
        (staging / META_FILE).replace(beside / META_FILE)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportsResult(
        simulation=SimulationResult(
            **{**simulated.__dict__, "location": out, "truth_dir": beside / "truth"}
        ),
        files=exporter.written,
        planted=exporter.planted,
    )


# --- formats ---------------------------------------------------------------------------------


def _gmt(moment: datetime | date) -> str:
    """Salesforce's GMT date-time, as Data Loader writes it: 2019-06-03T08:15:00.000Z."""
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(14, 0), UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _unix(day: date) -> int:
    return int(datetime.combine(day, time(), UTC).timestamp())


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")


def _java_double(value: float) -> str:
    """A double as Java's Double.toString writes it for large values (4.85E9)."""
    mantissa, exponent = f"{value:.6E}".split("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E{int(exponent)}"


def _split_name(name: str | None) -> tuple[str, str]:
    first, _, last = (name or "").partition(" ")
    return (first, last) if last else ("", first)


class _Exporter:
    """Reads the staged simulation files and writes each vendor's export."""

    def __init__(self, staging: Path, out: Path, dirt: Dirt, as_of: date) -> None:
        self.staging, self.out, self.dirt, self.as_of = staging, out, dirt, as_of
        self.written: dict[str, int] = {}
        self.planted: list[str] = []
        self.ids: list[tuple[str, str, str]] = []  # kind, simulated id, exported id
        self.account_ids: dict[str, tuple[str, str]] = {}  # simulated → (18, 15 characters)
        self.contact_ids: dict[str, str] = {}
        self.contract_ids: dict[str, str] = {}
        self.user_ids: dict[str, str] = {}
        self.prospect_ids = ("", "")  # holding, subsidiary

    def rows(self, entity: str) -> list[dict[str, Any]]:
        return pq.read_table(self.staging / f"{entity}.parquet").to_pylist()

    def write(self) -> None:
        self.write_users()
        accounts = self.rows("accounts")
        self.write_accounts(accounts)
        self.write_contacts()
        self.write_contracts(accounts)
        self.write_account_fields(accounts)
        self.write_tenure_records()
        self.write_cases()
        self.write_usage()
        self.write_ids()

    # --- helpers -----------------------------------------------------------------------------

    def _path(self, name: str) -> Path:
        path = self.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def write_csv(
        self, name: str, header: list[str], rows: Iterable[list[Any]], encoding: str
    ) -> None:
        """Data Loader's CSV: UPPERCASE header, every value quoted, CRLF rows."""
        count = 0
        with open(self._path(name), "w", encoding=encoding, newline="") as handle:
            writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
            writer.writerow([column.upper() for column in header])
            for row in rows:
                writer.writerow(["" if v is None else v for v in row])
                count += 1
        self.written[name] = count

    def write_jsonl(self, name: str, rows: Iterable[dict[str, Any]]) -> None:
        count = 0
        with open(self._path(name), "w", encoding="utf-8", newline="\n") as handle:
            for row in rows:
                handle.write(json.dumps(row, default=_json_value, separators=(",", ":")) + "\n")
                count += 1
        self.written[name] = count

    def account_ref(self, simulated: str, line: int) -> str:
        """The account's Salesforce id as a cell holds it: every 7th in the 15-character form."""
        long_id, short_id = self.account_ids[simulated]
        return short_id if "short_ids" in self.dirt and line % 7 == 3 else long_id

    # --- Salesforce --------------------------------------------------------------------------

    def write_users(self) -> None:
        users = self.rows("users")
        for serial, user in enumerate(users, start=1):
            self.user_ids[user["email"]] = salesforce_long_id(USER, serial)
            self.ids.append(("user", user["email"], self.user_ids[user["email"]]))
        header = ["Id", "Username", "FirstName", "LastName", "Email", "IsActive", "ManagerId"]
        self.write_csv(
            "salesforce/User.csv",
            [*header, "Title"],
            (
                [
                    self.user_ids[u["email"]],
                    u["email"],
                    *_split_name(u["name"]),
                    u["email"],
                    "true",
                    self.user_ids.get(u["manager_email"] or ""),
                    "Customer Success Manager" if u["role"] == "csm" else "Head of CS",
                ]
                for u in users
            ),
            "utf-8",
        )
        # Tenure's console users: the CS team as `tenure users create` takes it.
        self.write_jsonl(
            USERS_FILE,
            (
                {k: u[k] for k in ("email", "name", "role", "manager_email")}
                for u in sorted(users, key=lambda u: u["manager_email"] is not None)
            ),
        )

    def write_accounts(self, accounts: list[dict[str, Any]]) -> None:
        for serial, account in enumerate(accounts, start=1):
            ids = (salesforce_long_id(ACCOUNT, serial), salesforce_short_id(ACCOUNT, serial))
            self.account_ids[account["external_id"]] = ids
            self.ids.append(("account", account["external_id"], ids[0]))
        header = ["Id", "Name", "ParentId", "Type", "Industry", "NumberOfEmployees"]
        header += ["BillingCountry", "OwnerId", "CreatedDate", "AnnualRevenue", "Description"]
        rows = [self._account_row(serial, a) for serial, a in enumerate(accounts, start=1)]
        rows = self._prospects(len(accounts)) + rows
        if "refused_rows" in self.dirt:
            serial = len(accounts) + 3
            # a record someone started and never finished: Name is required
            rows.append([salesforce_long_id(ACCOUNT, serial), "", "", "Prospect"] + [""] * 7)
            self.planted.append("salesforce/Account.csv: an account without a name")
        encoding = "cp1252" if "cp1252" in self.dirt else "utf-8"
        self.write_csv("salesforce/Account.csv", header, rows, encoding)

    def write_account_fields(self, accounts: list[dict[str, Any]]) -> None:
        """The CS fields Salesforce's standard Account has no place for."""
        self.write_jsonl(
            "tenure/accounts.jsonl",
            (
                {
                    "external_id": self.account_ids[a["external_id"]][0],
                    "name": a["name"],
                    "segment": a["segment"],
                    "experience_segment": a["experience_segment"],
                    "region": a["region"],
                    "owner_email": a["owner_email"],
                    "onboarded_on": a["onboarded_on"],
                    "custom.handoff": a["custom.handoff"],
                    "custom.churn": a["custom.churn"] and self._stated_churn(a["custom.churn"]),
                }
                for a in accounts
            ),
        )

    def _account_row(self, serial: int, account: dict[str, Any]) -> list[Any]:
        countries = COUNTRIES.get(account["region"], ("United States",))
        employees = account["employee_count"]
        return [
            self.account_ids[account["external_id"]][0],
            account["name"],
            "",
            "Customer - Direct",
            account["industry"],
            employees,
            countries[serial % len(countries)],
            self.user_ids.get(account["owner_email"] or ""),
            _gmt(account["created_on"]),
            None if employees is None else _java_double(employees * 150_000.0),
            DESCRIPTION,
        ]

    def _prospects(self, accounts: int) -> list[list[Any]]:
        """A holding company and its subsidiary, prospects (the subsidiary is in a trial)."""
        parent = salesforce_long_id(ACCOUNT, accounts + 1)
        child = salesforce_long_id(ACCOUNT, accounts + 2)
        parent_cell = (
            salesforce_short_id(ACCOUNT, accounts + 1) if "short_ids" in self.dirt else parent
        )
        self.prospect_ids = (parent, child)
        holding = [parent, "Société Nordique Holding", "", "Prospect", "finance", 12_000]
        holding += ["France", "", _gmt(self.as_of - timedelta(days=40)), "1.8E9", DESCRIPTION]
        subsidiary = [child, "Société Nordique – Oslo", parent_cell, "Prospect", "finance", 900]
        subsidiary += ["Norway", "", _gmt(self.as_of - timedelta(days=30)), "1.35E8", ""]
        pair = [subsidiary, holding]
        return pair if "parent_after_child" in self.dirt else pair[::-1]

    def _stated_churn(self, churn: dict[str, Any]) -> dict[str, Any]:
        contract = churn.get("contract_external_id")
        return {**churn, "contract_external_id": self.contract_ref(contract)}

    def contract_ref(self, simulated: str | None) -> str | None:
        if simulated is None:
            return None
        return self.contract_ids.get(simulated, simulated)

    def write_contacts(self) -> None:
        contacts = self.rows("contacts")
        for serial, contact in enumerate(contacts, start=1):
            self.contact_ids[contact["external_id"]] = salesforce_long_id(CONTACT, serial)
            self.ids.append(
                ("contact", contact["external_id"], salesforce_long_id(CONTACT, serial))
            )
        rows = [
            [
                self.contact_ids[c["external_id"]],
                self.account_ref(c["account_external_id"], line),
                *_split_name(c["name"]),
                c["email"],
                c["title"],
                "false",
            ]
            for line, c in enumerate(contacts)
        ]
        if "refused_rows" in self.dirt:
            gone = salesforce_long_id(ACCOUNT, len(self.account_ids) + 9)
            serial = len(contacts) + 1
            rows.insert(
                len(rows) // 2,
                [salesforce_long_id(CONTACT, serial), gone, "Ola", "Nordmann", "", "", "false"],
            )
            self.planted.append("salesforce/Contact.csv: a contact of a deleted account")
        header = ["Id", "AccountId", "FirstName", "LastName", "Email", "Title"]
        encoding = "utf-8-sig" if "bom" in self.dirt else "utf-8"
        self.write_csv("salesforce/Contact.csv", [*header, "HasOptedOutOfEmail"], rows, encoding)
        self.write_jsonl(
            "tenure/contacts.jsonl",
            (
                {
                    "external_id": self.contact_ids[c["external_id"]],
                    "level": c["level"],
                    "roles": c["roles"],
                    "joined_on": c["joined_on"],
                    "left_on": c["left_on"],
                }
                for c in contacts
            ),
        )

    # --- Stripe ------------------------------------------------------------------------------

    def write_contracts(self, accounts: list[dict[str, Any]]) -> None:
        contracts = self.rows("contracts")
        in_stripe = [c for c in contracts if _billed_in_stripe(c)]
        for contract in in_stripe:
            self.contract_ids[contract["external_id"]] = stripe_id("sub", contract["external_id"])
        for contract in contracts:
            exported = self.contract_ids.get(contract["external_id"], contract["external_id"])
            self.ids.append(("contract", contract["external_id"], exported))
        subscriptions = [
            self._subscription(c, self.account_ref(c["account_external_id"], line))
            for line, c in enumerate(in_stripe)
        ]
        subscriptions += self._trial()
        if "refused_rows" in self.dirt and in_stripe:
            metered = self._subscription(
                in_stripe[0] | {"external_id": "metered-add-on"},
                self.account_ids[in_stripe[0]["account_external_id"]][0],
            )
            metered["plan"] |= {"amount": None, "amount_decimal": None}
            metered["plan"] |= {"billing_scheme": "tiered", "usage_type": "metered"}
            metered["quantity"] = None
            subscriptions.insert(len(subscriptions) // 2, metered)
            self.planted.append(
                "stripe/subscriptions.jsonl: a metered subscription (no amount, no quantity)"
            )
        self.write_jsonl("stripe/subscriptions.jsonl", subscriptions)
        tracked = (c for c in contracts if not _billed_in_stripe(c))
        self.write_jsonl("tenure/contracts.jsonl", map(self._referenced, tracked))
        billed = {c["account_external_id"]: c for c in in_stripe}
        self.write_jsonl(
            "stripe/customers.jsonl",
            (
                self._customer(a, billed[a["external_id"]])
                for a in accounts
                if a["external_id"] in billed
            ),
        )

    def _customer(self, account: dict[str, Any], contract: dict[str, Any]) -> dict[str, Any]:
        simulated = account["external_id"]
        return {
            "id": stripe_id("cus", simulated),
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": _unix(account["created_on"]),
            "currency": contract["currency"].lower(),
            "delinquent": False,
            "description": None,
            "email": None,
            "invoice_prefix": stripe_id("in", simulated)[3:11].upper(),
            "livemode": False,
            "metadata": {"salesforce_account_id": self.account_ids[simulated][0]},
            "name": account["name"],
            "preferred_locales": [],
            "tax_exempt": "none",
        }

    def _subscription(self, contract: dict[str, Any], salesforce_account: str) -> dict[str, Any]:
        """A term as Stripe's Subscription object (the legacy ``plan`` carries the price)."""
        account, currency = contract["account_external_id"], contract["currency"]
        interval, count = STRIPE_INTERVALS.get(contract["billing_period"], ("year", 0))
        if count == 0:  # multi-year: years per term (Stripe bills up to every 3 years)
            count = max(1, round((contract["ends_on"] - contract["starts_on"]).days / 365))
        seats = max(contract["licensed_seats"] or 1, 1)
        per_year = Decimal(str(contract["arr"])) / seats
        per_period = per_year * count if interval == "year" else per_year / 12
        amount = minor_units(per_period, currency, "stripe")
        start, end = contract["starts_on"], contract["ends_on"] + timedelta(days=1)
        ended = contract["status"] == "ended"
        notice = contract["notice_on"]
        leaving = ended or notice is not None
        cancelled_on = notice or contract["outcome_on"] or contract["ends_on"]
        return {
            "id": stripe_id("sub", contract["external_id"]),
            "object": "subscription",
            "application": None,
            "billing_cycle_anchor": _unix(start),
            "cancel_at": _unix(end) if leaving else None,
            "cancel_at_period_end": leaving,
            "canceled_at": _unix(cancelled_on) if leaving else None,
            "collection_method": "send_invoice" if interval == "year" else "charge_automatically",
            "created": _unix(start),
            "currency": currency.lower(),
            "current_period_end": _unix(end),
            "current_period_start": _unix(start),
            "customer": stripe_id("cus", account),
            "ended_at": _unix(end) if ended else None,
            "livemode": False,
            "discount": _discount(contract.get("discount")),
            "metadata": {"salesforce_account_id": salesforce_account},
            "plan": {
                "id": f"price_{contract['plan']}_{interval}{count}_{currency}".lower(),
                "object": "plan",
                "active": True,
                "amount": amount,
                "amount_decimal": str(amount),
                "billing_scheme": "per_unit",
                "currency": currency.lower(),
                "interval": interval,
                "interval_count": count,
                "nickname": contract["plan"],
                "product": f"prod_{contract['plan']}".lower(),
                "usage_type": "licensed",
            },
            "quantity": seats,
            "start_date": _unix(start),
            "status": "canceled" if ended else "active",
            "trial_end": None,
            "trial_start": None,
        }

    def _trial(self) -> list[dict[str, Any]]:
        """The prospect subsidiary tries the product for 14 days: trialing, not ARR."""
        start = self.as_of - timedelta(days=5)
        trial = {
            "external_id": "trial-nordique-oslo",
            "account_external_id": "prospect-nordique-oslo",
            "plan": "Team",
            "billing_period": "monthly",
            "starts_on": start,
            "ends_on": start + timedelta(days=13),
            "arr": 12 * 49.0 * 10,
            "currency": "EUR",
            "licensed_seats": 10,
            "status": "active",
            "notice_on": None,
            "outcome_on": None,
        }
        subscription = self._subscription(trial, self.prospect_ids[1])
        subscription |= {"status": "trialing", "trial_start": _unix(start)}
        subscription["trial_end"] = subscription["current_period_end"]
        return [subscription]

    # --- Tenure's own format: what no vendor export carries ------------------------------

    def write_tenure_records(self) -> None:
        self.write_jsonl("tenure/features.jsonl", self.rows("features"))
        for entity in ("surveys", "touchpoints"):
            self.write_jsonl(f"tenure/{entity}.jsonl", map(self._referenced, self.rows(entity)))

    def write_cases(self) -> None:
        """Support tickets as Salesforce Cases (Data Loader's Case extract)."""
        rows = []
        for serial, ticket in enumerate(self.rows("tickets"), start=1):
            case_id = salesforce_long_id(CASE, serial)
            self.ids.append(("ticket", ticket["external_id"], case_id))
            contact = ticket["contact_external_id"]
            closed = ticket["closed_at"]
            rows.append(
                [
                    case_id,
                    self.account_ids[ticket["account_external_id"]][0],
                    self.contact_ids[contact] if contact else "",
                    ticket["subject"] or "",
                    CASE_PRIORITY[ticket["priority"]],
                    ticket["category"] or "",
                    "Closed" if closed else "New",
                    _gmt(ticket["opened_at"]),
                    _gmt(closed) if closed else "",
                ]
            )
        header = ["Id", "AccountId", "ContactId", "Subject", "Priority", "Type", "Status"]
        header += ["CreatedDate", "ClosedDate"]
        self.write_csv("salesforce/Case.csv", header, rows, "utf-8")

    def _referenced(self, row: dict[str, Any]) -> dict[str, Any]:
        """A record with its references in the exported ids."""
        row = dict(row)
        row["account_external_id"] = self.account_ids[row["account_external_id"]][0]
        if row.get("contact_external_id"):
            row["contact_external_id"] = self.contact_ids[row["contact_external_id"]]
        if row.get("external_id") in self.contract_ids:
            row["external_id"] = self.contract_ids[row["external_id"]]
        if "attendee_external_ids" in row:
            row["attendee_external_ids"] = [
                self.contact_ids[c] for c in row["attendee_external_ids"]
            ]
        return row

    # --- Segment -----------------------------------------------------------------------------

    def write_usage(self) -> None:
        """One track call per line, built column-wise (a demo base has ~750k): the simulated ids
        and event names are plain ASCII, so they need no JSON escaping (checked)."""
        count = 0
        with open(self._path(USAGE_FILE), "wb") as handle:
            for part in sorted((self.staging / "events").glob("event_date=*/*.parquet")):
                lines = self._track_calls(pq.read_table(part))
                handle.write("\n".join(lines.to_pylist()).encode() + b"\n")
                count += len(lines)
            if "refused_rows" in self.dirt:
                moment = _iso(datetime.combine(self.as_of, time(), UTC))
                call = {"type": "track", "messageId": "no-user-1", "event": "dashboard.viewed"}
                handle.write(json.dumps(call | {"timestamp": moment}).encode() + b"\n")
                self.planted.append(f"{USAGE_FILE}: a track call without userId or anonymousId")
                count += 1
        self.written[USAGE_FILE] = count

    def _track_calls(self, events: pa.Table) -> pa.Array:
        for column in ("message_id", "user_id", "event", "account_id"):
            if pc.any(pc.match_substring_regex(events[column], r'["\\\x00-\x1f]')).as_py():
                raise ValueError(f"simulated {column} needs JSON escaping")
        simulated = list(self.account_ids)
        group = pc.take(
            pa.array([self.account_ids[a][0] for a in simulated]),
            pc.index_in(events["account_id"], pa.array(simulated)),
        )
        moment = pc.strftime(events["timestamp"], "%Y-%m-%dT%H:%M:%SZ")  # %S has the microseconds
        user = pc.binary_join_element_wise('"userId":"', events["user_id"], '",', "")
        context = pc.binary_join_element_wise(f"{LIBRARY[:-1]},", '"groupId":"', group, '"}', "")
        properties = pc.binary_join_element_wise(',"properties":', events["properties"], "")
        return pc.binary_join_element_wise(
            '{"type":"',
            events["type"],
            '","messageId":"',
            events["message_id"],
            '",',
            pc.fill_null(user, ""),
            '"event":"',
            events["event"],
            '","timestamp":"',
            moment,
            '"',
            pc.fill_null(
                context, ',"context":{"library":{"name":"analytics-node","version":"2.1.0"}}'
            ),
            pc.fill_null(properties, ""),
            "}",
            "",
        )

    def write_truth(self, staged: Path, truth: Path) -> None:
        """The truth files with the exported ids in place of the simulator's."""
        shutil.rmtree(truth, ignore_errors=True)
        truth.mkdir(parents=True)
        renamed = {
            "account_external_id": {k: v[0] for k, v in self.account_ids.items()},
            "contract_external_id": self.contract_ids,
        }
        for path in staged.iterdir():
            if path.suffix != ".parquet":
                shutil.copy(path, truth / path.name)
                continue
            table = pq.read_table(path)
            for column, exported in renamed.items():
                if column in table.column_names:
                    ids = [exported.get(i, i) for i in table[column].to_pylist()]
                    index = table.column_names.index(column)
                    table = table.set_column(index, column, pa.array(ids, pa.string()))
            pq.write_table(table, truth / path.name, compression="zstd")

    def write_ids(self) -> None:
        with open(self._path("ids.csv"), "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["kind", "simulated_id", "exported_id"])
            writer.writerows(self.ids)


def _discount(fraction: float | None) -> dict[str, Any] | None:
    """A negotiated discount as the subscription's coupon (Stripe's ``discount`` object): the
    subscriptions carry it as the renewal tracker does, or its absence would tell the churned
    terms (in Stripe) from the renewed ones (in the tracker)."""
    if not fraction:
        return None
    percent = float(Decimal(str(fraction)) * 100)
    coupon = {"object": "coupon", "id": f"negotiated-{percent:g}", "percent_off": percent}
    return {"object": "discount", "coupon": coupon | {"duration": "forever"}}


def _billed_in_stripe(contract: dict[str, Any]) -> bool:
    """Stripe holds the live subscriptions and those that ended in a cancellation."""
    return contract["status"] == "active" or (
        contract["status"] == "ended" and contract["renewal_outcome"] == "churned"
    )
