"""Every custom field a connector or a shipped import mapping writes on an account reads as
words (issue 19: ``deleted_in_salesforce_on`` reached the account page as a key)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tenure.accounts.words import custom_fields, key_words
from tenure.connectors.service import VENDORS
from tenure.ingest import mappings

MAPPINGS = Path(mappings.__file__).parent
RAW = re.compile(r"[a-z]+_[a-z_]+")  # a key as code spells it


def _written_keys() -> set[str]:
    """The custom keys the shipped account mappings fill, and the connectors' deletion marks."""
    keys = set()
    for path in MAPPINGS.glob("*.yaml"):
        spec = yaml.safe_load(path.read_text())
        if spec.get("entity") != "accounts":
            continue
        keys |= {k.removeprefix("custom.") for k in spec["columns"] if k.startswith("custom.")}
    return keys | {f"deleted_in_{name}_on" for name in VENDORS}


def _sample(key: str) -> object:
    if key.startswith("deleted_in_"):
        return "2026-12-03"
    known = {"delinquent": True, "annual_revenue": 4_850_000_000, "annual_revenue_currency": "EUR"}
    return known.get(key, "marketing_qualified_lead")


def test_every_custom_field_written_reads_as_words() -> None:
    keys = _written_keys()
    assert {"deleted_in_salesforce_on", "account_type", "delinquent", "lifecycle_stage"} <= keys
    custom = {key: _sample(key) for key in keys}
    fields = custom_fields(custom)
    shown = {f.key for f in fields}
    # Every key shows but the revenue's currency, which is part of the revenue's figure.
    assert shown == keys - {"annual_revenue_currency"}
    for f in fields:
        assert not RAW.search(f.label), f
        assert not RAW.search(f.text), f
    deleted = [f.text for f in fields if f.warning]
    assert deleted[:1] == ["Deleted in HubSpot on 2026-12-03"]  # deletions first
    assert {f"Deleted in {v.label} on 2026-12-03" for v in VENDORS.values()} == set(deleted)


def test_values_in_words() -> None:
    fields = {
        f.label: f.text
        for f in custom_fields(
            {
                "annual_revenue": 4_850_000_000,
                "annual_revenue_currency": "EUR",
                "delinquent": False,
                "lifecycle_stage": "customer",
                "account_type": "Customer - Direct",
                "handoff": {"why_bought": "x"},  # shown on the alignment page
                "seats_planned": 12,  # a trait a Segment group call sent
            }
        )
    }
    assert fields == {
        "Annual revenue": "4,850,000,000 EUR",
        "Payment overdue in billing": "no",
        "Lifecycle stage in the CRM": "Customer",
        "Account type in the CRM": "Customer - Direct",
        "Seats planned": "12",
    }
    assert [key_words(k) for k in ("smb", "enterprise", "tech_touch", "")] == [
        "SMB",
        "Enterprise",
        "Tech touch",
        "—",
    ]
