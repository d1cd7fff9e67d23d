"""`tenure simulate --as-exports DIR`: the simulated company as its tools would hand it over.

The simulation runs into a staging folder (the ``--out`` Parquet files); then each tool's module
writes what a CS team would export from it, in its format, with the dirt real exports carry
(``Dirt``): ``salesforce`` (Data Loader extracts), ``hubspot`` (marketing's portal: companies and
contacts from the Export button, linked to Salesforce), ``stripe`` (API objects as JSON lines),
``segment`` (usage as track calls), ``salesforce_custom`` (the CS team's custom objects: handoffs
and the reference program) and ``tenure_records`` (what no vendor export carries, in
Tenure's own format). Which door imports each file is in ``DOORS``.

``ids.csv`` names the simulator's id of every exported record (no import reads it; tests compare
the two paths with it). The truth stays in ``truth/``, as with ``--out``, in the exported ids.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tenure.errors import Conflict
from tenure.simulate.config import SimulationConfig
from tenure.simulate.exports import finance, salesforce, salesforce_custom, stripe, tenure_records
from tenure.simulate.exports.context import DIRT_KINDS, Dirt, ExportContext
from tenure.simulate.exports.hubspot import COMPANIES_FILE, CONTACTS_FILE, write_hubspot
from tenure.simulate.exports.segment import USAGE_FILE, write_usage
from tenure.simulate.exports.tenure_records import USERS_FILE
from tenure.simulate.interventions import Interventions
from tenure.simulate.service import META_FILE, Progress, SimulationResult, simulate_to_files

__all__ = [
    "DIRT_KINDS",
    "DOORS",
    "USAGE_FILE",
    "USERS_FILE",
    "Dirt",
    "ExportsResult",
    "simulate_as_exports",
]

# file (relative to DIR) → (entity, shipped mapping or None for Tenure's own format), in the
# order an import needs: what a row references comes first.
DOORS: dict[str, tuple[str, str | None]] = {
    "salesforce/User.csv": ("users", "salesforce-users"),
    "salesforce/Account.csv": ("accounts", "salesforce-accounts"),
    "tenure/accounts.jsonl": ("accounts", None),
    "stripe/customers.jsonl": ("accounts", "stripe-customers"),
    COMPANIES_FILE: ("accounts", "hubspot-companies-export"),
    "salesforce/Contact.csv": ("contacts", "salesforce-contacts"),
    "tenure/contacts.jsonl": ("contacts", None),
    CONTACTS_FILE: ("contacts", "hubspot-contacts-export"),
    "tenure/features.jsonl": ("features", None),
    "stripe/subscriptions.jsonl": ("contracts", "stripe-subscriptions-salesforce"),
    "tenure/contracts.jsonl": ("contracts", None),
    "salesforce/Opportunity.csv": ("opportunities", "salesforce-opportunities"),
    "tenure/surveys.jsonl": ("surveys", None),
    "salesforce/Case.csv": ("tickets", "salesforce-cases"),
    "tenure/touchpoints.jsonl": ("touchpoints", None),
    salesforce_custom.HANDOFFS_FILE: ("handoffs", "salesforce-handoffs"),
    salesforce_custom.ADVOCACY_FILE: ("advocacy", "salesforce-advocacy"),
    "tenure/messages.jsonl": ("messages", None),
}


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
    ctx = ExportContext(staging, out, dirt or Dirt(), simulated.as_of)
    try:
        _write(ctx)
        if rates := finance.write_rates(config, out):
            ctx.written[finance.RATES_FILE] = rates
        _write_truth(ctx, staging / "truth", beside / "truth")
        (staging / META_FILE).replace(beside / META_FILE)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportsResult(
        simulation=SimulationResult(
            **{**simulated.__dict__, "location": out, "truth_dir": beside / "truth"}
        ),
        files=ctx.written,
        planted=ctx.planted,
    )


def _write(ctx: ExportContext) -> None:
    """Each tool's export, in the order their ids are needed: users, accounts, contacts, then
    what references them."""
    users = ctx.rows("users")
    salesforce.write_users(ctx, users)
    tenure_records.write_team(ctx, users)
    accounts = ctx.rows("accounts")
    salesforce.write_accounts(ctx, accounts)
    contacts = ctx.rows("contacts")
    salesforce.write_contacts(ctx, contacts)
    tenure_records.write_contact_fields(ctx, contacts)
    contracts = ctx.rows("contracts")
    stripe.write_stripe(ctx, accounts, contracts)
    for contract in contracts:
        simulated = contract["external_id"]
        ctx.ids.append(("contract", simulated, ctx.contract_ids.get(simulated, simulated)))
    tracked = [
        c for c in contracts if not stripe.billed_in_stripe(c) or tenure_records.decided_ahead(c)
    ]
    tenure_records.write_renewal_tracker(ctx, tracked)
    tenure_records.write_account_fields(ctx, accounts)
    tenure_records.write_tenure_records(ctx)
    salesforce.write_opportunities(ctx)
    write_hubspot(ctx, accounts, contacts, users)
    salesforce.write_cases(ctx)
    salesforce_custom.write_handoffs(ctx)
    salesforce_custom.write_advocacy(ctx)
    write_usage(ctx)
    _write_ids(ctx)


def _write_truth(ctx: ExportContext, staged: Path, truth: Path) -> None:
    """The truth files with the exported ids in place of the simulator's."""
    shutil.rmtree(truth, ignore_errors=True)
    truth.mkdir(parents=True)
    renamed = {
        "account_external_id": {k: v[0] for k, v in ctx.account_ids.items()},
        "contract_external_id": ctx.contract_ids,
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


def _write_ids(ctx: ExportContext) -> None:
    with open(ctx.path("ids.csv"), "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["kind", "simulated_id", "exported_id"])
        writer.writerows(ctx.ids)
