"""The audit log in words an admin reads: what was done, to which record, through which door.

Stored entries keep their machine keys (``cta.snooze``, ``account_team``, ``cli``) — the API's
filters and any export rely on them; pages show these phrases instead.

>>> action_text("cta.snooze"), entity_text("account_team"), via_text("cli")
('Snoozed a call to action', 'Account team', 'command line')
>>> action_text("widget.frobnicate")  # a key nobody described yet still reads as words
'Widget: frobnicate'

Before/after values too: a stored key of a known kind (a CTA's status, a contact's level, a
user's role) in the words the console uses for it, yes/no, nested fields by their labels.

>>> value_text("in_progress", "status"), value_text(["champion", "end_user"], "roles")
('In progress', 'Champion, End user')
>>> value_text({"rows": 12, "filters": {"owner": "team", "band": None}}), value_text(True)
('rows: 12; filters: (owner: team)', 'yes')
>>> value_text("acme_ltd", "name")  # text a person typed stays as typed
'acme_ltd'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from tenure.accounts.words import key_words
from tenure.model import Base
from tenure.success.churn_classification import CAUSE_WORDS, REASON_WORDS, class_words
from tenure.success.lifecycle_variants import STAGE_LABELS

ACTIONS: dict[str, str] = {
    "account.handoff_answers": "Recorded the sales handoff answers",
    "account.reassign": "Changed an account's owner",
    "account.opened_from_product_id": "Made a product workspace a new account",
    "account.product_id_linked": "Linked a product workspace to an account",
    "account_team.add": "Added someone to an account team",
    "account_team.remove": "Removed someone from an account team",
    "advocacy.create": "Recorded a customer advocacy activity",
    "api_token.create": "Created an API token",
    "api_token.revoke": "Revoked an API token",
    "churn_record.confirm": "Confirmed why a customer left",
    "connect": "Connected a system",
    "disconnect": "Disconnected a system",
    "write_back": "Changed what is written back to the CRM",
    "cta.acknowledge": "Acknowledged a call to action",
    "cta.snooze": "Snoozed a call to action",
    "cta.close": "Closed a call to action",
    "cta.rescue_request": "Asked for a rescue",
    "cta.step_done": "Ticked off a playbook step",
    "desired_outcome.create": "Set a Desired Outcome",
    "export.csv": "Downloaded a CSV file",
    "fx_rates.imported": "Imported exchange rates",
    "handoff.record": "Recorded a sales-to-CS handoff",
    "import.file": "Imported a file",
    "lifecycle_model.set": "Changed the lifecycle model",
    "maturity.assess": "Assessed customer maturity",
    "message.approve": "Approved and sent an engagement message",
    "message.draft": "Drafted an engagement message",
    "milestone.add": "Added a success-plan milestone",
    "milestone.reach": "Marked a milestone reached",
    "opportunity.create": "Created an opportunity",
    "opportunity.update": "Changed an opportunity",
    "opportunity.won": "Marked an opportunity won",
    "opportunity.lost": "Marked an opportunity lost",
    "person.erased": "Erased a person's personal data",
    "playbook_rule.create": "Built a rule",
    "playbook_rule.enable": "Switched a rule on",
    "playbook_rule.disable": "Switched a rule off",
    "reporting_currency.set": "Changed the reporting currency",
    "saved_view.save": "Saved a portfolio view",
    "saved_view.delete": "Deleted a saved portfolio view",
    "scorecard.save": "Saved a health scorecard version",
    "scorecard.in_force": "Put a health scorecard version in force",
    "scorecard.backtest": "Asked for a backtest of two health scorecard versions",
    "success_plan.create": "Created a success plan",
    "survey_campaign.create": "Created a survey campaign",
    "survey_campaign.send": "Sent a survey campaign",
    "touchpoint.create": "Logged a touchpoint",
    "user.create": "Added a user",
    "user.import": "Added a user from an import",
    "user.update": "Changed a user",
    "user.password": "Changed a password",
    "user.sign_in": "Signed in",
    "user.sign_in_failed": "Failed to sign in",
    "user.sign_out_everywhere": "Signed out on every device",
}

ENTITIES: dict[str, str] = {
    "account": "Account",
    "account_handoff": "Handoff",
    "account_team": "Account team",
    "advocacy": "Advocacy activity",
    "api_token": "API token",
    "churn_record": "Lost customer",
    "connection": "Connected system",
    "contact": "Contact",
    "contacts": "Contacts list",
    "cta": "Call to action",
    "desired_outcome": "Desired Outcome",
    "engagement_message": "Engagement message",
    "fx_rate": "Exchange rates",
    "import_run": "Import",
    "lifecycle_setting": "Lifecycle model",
    "maturity_assessment": "Maturity assessment",
    "milestone": "Milestone",
    "opportunity": "Opportunity",
    "playbook_rule": "Rule",
    "portfolio": "Portfolio list",
    "reporting_currency": "Reporting currency",
    "saved_view": "Saved view",
    "scorecard_version": "Scorecard version",
    "scorecard_backtest": "Scorecard backtest",
    "success_plan": "Success plan",
    "survey_campaign": "Survey campaign",
    "touchpoint": "Touchpoint",
    "user": "User",
}

VIAS = {"web": "console", "cli": "command line", "api": "API", "system": "Tenure itself"}


def _words(key: str) -> str:
    return key.replace("_", " ").replace(".", " ").strip()


def action_text(action: str) -> str:
    """What was done, as a sentence without its subject."""
    if action in ACTIONS:
        return ACTIONS[action]
    subject, _, verb = action.partition(".")
    if not verb:
        return _words(subject).capitalize()
    return f"{_words(subject).capitalize()}: {_words(verb)}"


def entity_text(entity: str) -> str:
    return ENTITIES.get(entity) or _words(entity).capitalize()


def via_text(via: str) -> str:
    return VIAS.get(via, _words(via))


def field_text(field: str) -> str:
    """A stored column name as a label: ``owner_id`` → ``owner``, ``snoozed_until`` →
    ``snoozed until``."""
    return _words(field.removesuffix("_id") if field.endswith("_id") else field)


def _enum_keys() -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    for table in Base.metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, sa.Enum):
                found[column.name] = found.get(column.name, frozenset()) | set(column.type.enums)
    return found


# The columns that store a key, and the keys each may hold: every enum column of the schema
# (a CTA's status, a touchpoint's kind, a user's role...); and lists of keys (a campaign's
# contact roles and levels). A value outside these stays as stored: a name that happens to
# look like a key is text.
KEY_FIELDS = _enum_keys()
KEY_LISTS = {"roles": "role", "levels": "level"}
# Keys with words of their own elsewhere in the console (the churn review, the lifecycle).
_CAUSES = {side.value: words for side, words in CAUSE_WORDS.items()}
WORDED: dict[str, Callable[[str], str]] = {
    "cause_side": lambda key: _CAUSES.get(key) or key_words(key),
    "internal_reason": lambda key: REASON_WORDS.get(key) or key_words(key),
    "churn_class": class_words,
    "stage": lambda key: STAGE_LABELS.get(key) or key_words(key),
}


def value_text(value: Any, field: str = "") -> str:
    """A before/after value in words (see the module); None as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        shown = [(k, v) for k, v in value.items() if v not in (None, "", [], {})]
        return "; ".join(f"{field_text(k)}: {_nested(v, k)}" for k, v in shown) or "—"
    if isinstance(value, list | tuple):
        item = KEY_LISTS.get(field, field)
        return ", ".join(value_text(v, item) for v in value) or "—"
    if isinstance(value, str):
        if field in WORDED:
            return WORDED[field](value)
        if value in KEY_FIELDS.get(field, ()) or field in KEY_LISTS.values():
            return key_words(value)
    return str(value)


def _nested(value: Any, field: str) -> str:
    text = value_text(value, field)
    return f"({text})" if isinstance(value, Mapping) else text
