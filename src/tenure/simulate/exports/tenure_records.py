"""What no vendor export carries, in Tenure's own import format (JSON lines): the CS team as
console users, the CS fields of accounts and contacts, the renewal tracker (terms that ended in a
renewal, renewals signed for later), the feature catalog, survey answers, touchpoints and the
engagement messages the team sent from Tenure."""

from __future__ import annotations

from typing import Any

from tenure.accounts.renewal import RENEWING_OUTCOMES
from tenure.simulate.exports.context import ExportContext

USERS_FILE = "tenure/users.jsonl"


def write_team(ctx: ExportContext, users: list[dict[str, Any]]) -> None:
    """Tenure's console users: the CS team as `tenure users create` takes it (managers first)."""
    ctx.write_jsonl(
        USERS_FILE,
        (
            {k: u[k] for k in ("email", "name", "role", "manager_email")}
            for u in sorted(users, key=lambda u: u["manager_email"] is not None)
        ),
    )


def write_account_fields(ctx: ExportContext, accounts: list[dict[str, Any]]) -> None:
    """The CS fields Salesforce's standard Account has no place for."""
    ctx.write_jsonl(
        "tenure/accounts.jsonl",
        (
            {
                "external_id": ctx.account_ids[a["external_id"]][0],
                "name": a["name"],
                "segment": a["segment"],
                "experience_segment": a["experience_segment"],
                "region": a["region"],
                "owner_email": a["owner_email"],
                "onboarded_on": a["onboarded_on"],
                "custom.handoff": a["custom.handoff"],
                "custom.churn": a["custom.churn"] and _stated_churn(ctx, a["custom.churn"]),
                # The Required Outcome as the CS team last measured it (review or check-in).
                "custom.outcome": a["custom.outcome"],
            }
            for a in accounts
        ),
    )


def _stated_churn(ctx: ExportContext, churn: dict[str, Any]) -> dict[str, Any]:
    return {**churn, "contract_external_id": ctx.contract_ref(churn.get("contract_external_id"))}


def write_contact_fields(ctx: ExportContext, contacts: list[dict[str, Any]]) -> None:
    ctx.write_jsonl(
        "tenure/contacts.jsonl",
        (
            {
                "external_id": ctx.contact_ids[c["external_id"]],
                "level": c["level"],
                "roles": c["roles"],
                "joined_on": c["joined_on"],
                "left_on": c["left_on"],
            }
            for c in contacts
        ),
    )


def decided_ahead(contract: dict[str, Any]) -> bool:
    """A live term whose renewal the team already recorded: Stripe bills it with no field for
    that, so the tracker carries it (the term, with its outcome and the day it was decided)."""
    return contract["status"] == "active" and contract["renewal_outcome"] in RENEWING_OUTCOMES


def write_renewal_tracker(ctx: ExportContext, tracked: list[dict[str, Any]]) -> None:
    """The terms Stripe does not hold (renewed, or signed for later) and the live ones whose
    renewal is already decided (:func:`decided_ahead`), under Stripe's id for them."""
    ctx.write_jsonl("tenure/contracts.jsonl", map(ctx.referenced, tracked))


def write_tenure_records(ctx: ExportContext) -> None:
    ctx.write_jsonl("tenure/features.jsonl", ctx.rows("features"))
    for entity in ("surveys", "touchpoints", "messages"):
        ctx.write_jsonl(f"tenure/{entity}.jsonl", map(ctx.referenced, ctx.rows(entity)))
