"""Engagement messages: a draft for one moment, filled from the account's data."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tenure.accounts.renewal import renewal_on
from tenure.errors import InvalidInput, NotFound
from tenure.success import messages, outcome
from tenure.success.book import active_contracts, last_nps, load_one, metric
from tenure.success.outcome_service import outcome_versions
from tenure.words import percent


def draft(
    session: Session,
    external_id: str,
    moment: messages.Moment,
    goal: str | None,
    as_of: date,
    *,
    contact_external_id: str | None = None,
    channel: messages.Channel = messages.Channel.email,
    template_dir: Path | None = None,
    next_step: str | None = None,
) -> messages.MessageDraft:
    """A message for one moment, filled from the account's data; refused without a goal."""
    book, account = load_one(session, external_id, as_of)
    contacts = [c for c in book.contacts[account.id] if c.left_on is None]
    if contact_external_id:
        chosen = [c for c in contacts if c.external_id == contact_external_id]
        if not chosen:
            raise NotFound(f"contact {contact_external_id!r} not found at {external_id!r}")
        receiver = chosen[0]
    else:
        preferred = {"advocacy_ask": "champion", "renewal_prep": "commercial_buyer"}
        role = preferred.get(moment.value, "sponsor")
        ranked = sorted(
            contacts,
            key=lambda c: (role not in (c.roles or []), "champion" not in (c.roles or []), c.id),
        )
        if not ranked:
            raise InvalidInput(f"account {external_id!r} has no current contact to write to")
        receiver = ranked[0]
    owner = book.users.get(account.owner_id) if account.owner_id else None
    in_force = outcome.current_version(outcome_versions(session, account.id), as_of)
    evidence = []
    util = metric(book, account.id, "license_utilization")
    if util is not None:
        evidence.append(f"license utilization {percent(util)}")
    breadth = metric(book, account.id, "feature_breadth")
    if breadth is not None:
        evidence.append(f"{percent(breadth)} of features in use")
    extra: dict[str, Any] = {"nps": last_nps(book, account.id, as_of)}
    reached = [m for m in book.milestones[account.id] if m.reached_on]
    if reached:
        last = max(reached, key=lambda m: m.reached_on or date.min)
        extra["milestone"] = {"name": last.name, "reached_on": last.reached_on}
        evidence.append(f"milestone '{last.name}' reached on {last.reached_on}")
    elif moment is messages.Moment.milestone_reached:
        raise InvalidInput(f"account {external_id!r} has not reached a milestone yet")
    live = active_contracts(book, account.id, as_of)
    renewing = [day for day in map(renewal_on, live) if day is not None]
    if renewing:
        extra["renewal_on"] = min(renewing)
    elif moment is messages.Moment.renewal_prep:
        raise InvalidInput(f"account {external_id!r} has no active contract to renew")
    return messages.draft_message(
        messages.DraftRequest(
            moment=moment,
            goal=goal,
            account={
                "name": account.name,
                "external_id": account.external_id,
                "segment": account.segment,
            },
            sender=messages.Party(
                owner.name if owner else "Your customer success team",
                owner.email if owner else None,
            ),
            receiver=messages.Party(receiver.name, receiver.email, receiver.level),
            channel=channel,
            outcome_text=None if in_force is None else in_force.required_outcome.text,
            evidence=evidence,
            next_step=next_step,
            extra=extra,
        ),
        template_dir,
    )
