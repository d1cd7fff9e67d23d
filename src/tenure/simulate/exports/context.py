"""What every export shares: the dirt chosen, the ids each record was given in its tool, the
staged simulation rows, and the files written (Data Loader CSV, JSON lines) with their counts."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from tenure.errors import InvalidInput

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
    "unlinked_workspace": "the trial workspace of a prospect sends usage under a groupId no "
    "Salesforce Account carries yet (held until linked)",
}


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


# --- formats ---------------------------------------------------------------------------------


def gmt(moment: datetime | date) -> str:
    """Salesforce's GMT date-time, as Data Loader writes it: 2019-06-03T08:15:00.000Z."""
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(14, 0), UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def unix(day: date) -> int:
    return int(datetime.combine(day, time(), UTC).timestamp())


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")


def java_double(value: float) -> str:
    """A double as Java's Double.toString writes it for large values (4.85E9)."""
    mantissa, exponent = f"{value:.6E}".split("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E{int(exponent)}"


def split_name(name: str | None) -> tuple[str, str]:
    first, _, last = (name or "").partition(" ")
    return (first, last) if last else ("", first)


@dataclass
class ExportContext:
    """The staged simulation, the folder the exports go to, and what each tool called a record."""

    staging: Path
    out: Path
    dirt: Dirt
    as_of: date
    # file (relative to ``out``) → data rows written
    written: dict[str, int] = field(default_factory=dict)
    # the rows planted to be refused, as "file: why"
    planted: list[str] = field(default_factory=list)
    ids: list[tuple[str, str, str]] = field(default_factory=list)  # kind, simulated, exported
    account_ids: dict[str, tuple[str, str]] = field(default_factory=dict)  # → (18, 15 chars)
    contact_ids: dict[str, str] = field(default_factory=dict)
    contract_ids: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, str] = field(default_factory=dict)  # e-mail → Salesforce User Id
    prospect_ids: tuple[str, str] = ("", "")  # holding, subsidiary

    def rows(self, entity: str) -> list[dict[str, Any]]:
        return pq.read_table(self.staging / f"{entity}.parquet").to_pylist()

    def path(self, name: str) -> Path:
        path = self.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def write_csv(
        self,
        name: str,
        header: list[str],
        rows: Iterable[list[Any]],
        encoding: str,
        *,
        data_loader: bool = True,
    ) -> None:
        """Data Loader's CSV (UPPERCASE header, every value quoted, CRLF rows), or with
        ``data_loader=False`` a spreadsheet export's (header as given, quoted where needed)."""
        count = 0
        with open(self.path(name), "w", encoding=encoding, newline="") as handle:
            if data_loader:
                writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
                writer.writerow([column.upper() for column in header])
            else:
                writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
                writer.writerow(header)
            for row in rows:
                writer.writerow(["" if v is None else v for v in row])
                count += 1
        self.written[name] = count

    def write_jsonl(self, name: str, rows: Iterable[dict[str, Any]]) -> None:
        count = 0
        with open(self.path(name), "w", encoding="utf-8", newline="\n") as handle:
            for row in rows:
                handle.write(json.dumps(row, default=_json_value, separators=(",", ":")) + "\n")
                count += 1
        self.written[name] = count

    def account_ref(self, simulated: str, line: int) -> str:
        """The account's Salesforce id as a cell holds it: every 7th in the 15-character form."""
        long_id, short_id = self.account_ids[simulated]
        return short_id if "short_ids" in self.dirt and line % 7 == 3 else long_id

    def contract_ref(self, simulated: str | None) -> str | None:
        if simulated is None:
            return None
        return self.contract_ids.get(simulated, simulated)

    def referenced(self, row: dict[str, Any]) -> dict[str, Any]:
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
