"""What the CRM, the billing system and the importers store as keys, in a CS manager's words:
segments and regions (``mid_market`` → "Mid-market"), and the custom fields connectors and
mappings write on an account (``deleted_in_salesforce_on`` → "Deleted in Salesforce on …").

>>> key_words("mid_market"), key_words("north_america"), key_words("Enterprise EMEA")
('Mid-market', 'North America', 'Enterprise EMEA')
>>> key_words("director_vp"), key_words("end_user"), key_words("commercial_buyer")
('Director / VP', 'End user', 'Commercial buyer')
>>> [f.text for f in custom_fields({"deleted_in_hubspot_on": "2026-12-03", "delinquent": True})]
['Deleted in HubSpot on 2026-12-03', 'yes']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

VENDORS = {
    "salesforce": "Salesforce",
    "hubspot": "HubSpot",
    "stripe": "Stripe",
    "zendesk": "Zendesk",
    "intercom": "Intercom",
    "segment": "Segment",
}
# Keys of the simulated CRM and of common CRM picklists whose words are not the key's letters.
KNOWN_KEYS = {
    "smb": "SMB",
    "mid_market": "Mid-market",
    "north_america": "North America",
    "emea": "EMEA",
    "apac": "APAC",
    "latam": "LATAM",
    "marketing_qualified_lead": "Marketing qualified lead (MQL)",
    "sales_qualified_lead": "Sales qualified lead (SQL)",
    "roi": "ROI",
    # A contact's level (tenure.model.contact.ContactLevel).
    "director_vp": "Director / VP",
    # Touchpoint and survey kinds, a user's role.
    "qbr": "QBR",
    "ebr": "EBR",
    "nps": "NPS",
    "csat": "CSAT",
    "csm": "CSM",
}
KEY = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def key_words(value: str | None) -> str:
    """A stored key in words (``high_touch`` → "High touch"); text that is not a key (a
    picklist label such as "Customer - Direct") as it is; nothing as a dash."""
    if value is None or value == "":
        return "—"
    if not KEY.match(value):
        return value
    if value in KNOWN_KEYS:
        return KNOWN_KEYS[value]
    words = value.replace("_", " ")
    return words[:1].upper() + words[1:]


@dataclass(frozen=True)
class CustomField:
    """One field of an account from another system, as the account page shows it."""

    key: str
    label: str
    text: str
    warning: bool = False  # something the CSM must notice (the record was deleted there)


# The custom fields connectors and import mappings write (src/tenure/ingest/mappings/*.yaml,
# connectors/sync.py), labelled by what they are and where they come from.
LABELS = {
    "account_type": "Account type in the CRM",
    "annual_revenue": "Annual revenue",
    "billing_email": "Billing e-mail",
    "billing_currency": "Billing currency",
    "delinquent": "Payment overdue in billing",
    "domain": "Web domain",
    "hubspot_owner_id": "Owner's id in HubSpot",
    "lifecycle_stage": "Lifecycle stage in the CRM",
    "stripe_plan": "Plan in Stripe",
}
# Kept in custom but shown by their own sections (handoff answers on the alignment page,
# outcome measurements in the success plan, the stated churn reason in the churn review) or
# part of another field's figure (the annual revenue's currency).
SHOWN_ELSEWHERE = frozenset(
    {"handoff", "outcome", "churn", "customer_events", "annual_revenue_currency"}
)
DELETED = re.compile(r"^deleted_in_([a-z0-9]+)_on$")


def custom_fields(custom: dict[str, Any] | None) -> list[CustomField]:
    """The account's custom fields in words, a record deleted in another system first."""
    custom = custom or {}
    fields = []
    for key, value in custom.items():
        if key in SHOWN_ELSEWHERE or isinstance(value, (dict, list)) or value in (None, ""):
            continue
        deleted = DELETED.match(key)
        if deleted:
            vendor = VENDORS.get(deleted.group(1), deleted.group(1).capitalize())
            text = f"Deleted in {vendor} on {value}"
            fields.append(CustomField(key, f"Deleted in {vendor}", text, warning=True))
            continue
        label = LABELS.get(key) or key_words(key)
        fields.append(CustomField(key, label, _value_words(key, value, custom)))
    return sorted(fields, key=lambda f: (not f.warning, f.label))


def _value_words(key: str, value: Any, custom: dict[str, Any]) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        currency = custom.get(f"{key}_currency")
        text = f"{value:,.0f}" if abs(value) >= 1000 or float(value).is_integer() else f"{value:,}"
        is_code = isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency)
        return f"{text} {currency}" if is_code else text
    return key_words(str(value))
