"""Alerts a CS team wants in Slack, in plain words: churn risk crossing a threshold, a champion
who left, health turned red, a CTA assigned to someone.

Pure: alert_events.py finds the events in the stored scores, contacts and CTAs
and hands them here; this module writes the headline and detail lines of each event and composes
one Slack message per account and destination (Block Kit ``section``/``context`` blocks with
``mrkdwn`` text, api.slack.com/reference/block-kit/blocks, and a plain ``text`` for
notifications).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tenure.playbooks.wording import why_text
from tenure.risk.reasons import reason_text
from tenure.words import measure_text, percent

# The kinds of alert, in the order a message lists them, and their name for people.
KINDS: dict[str, str] = {
    "health_red": "Health turned red",
    "risk_crossed": "Churn risk rose",
    "champion_left": "Champion left",
    "cta_assigned": "A CTA assigned",
}
# Slack's limits: 3,000 characters in a section's text, 50 blocks, 40,000 in text.
_SECTION_CHARS = 2900
_MAX_EVENTS = 20
# Accounts listed in one CSM's direct message (a section each; Slack allows 50 blocks).
_DIGEST_ACCOUNTS = 40


@dataclass(frozen=True)
class AlertEvent:
    """One thing that happened to one account, worth a message."""

    key: str  # unique per event: an event already alerted is never alerted again
    kind: str  # one of KINDS
    account_id: int
    account_name: str
    headline: str
    details: tuple[str, ...] = ()
    # Whose direct messages it goes to: the CTA's owner, else the account's CSM.
    owner_email: str | None = None


@dataclass
class Message:
    account_id: int | None
    events: list[str]
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)


def escape(text: str) -> str:
    """Slack's mrkdwn control characters as entities (api.slack.com/reference/surfaces/formatting):
    an account called ``R&D <Labs>`` stays itself, not a broken link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def health_red_event(
    account_id: int,
    account_name: str,
    as_of: date,
    score: int,
    previous_score: int | None,
    previous_band: str | None,
    measures: Sequence[Mapping[str, Any]],
    owner_email: str | None,
) -> AlertEvent:
    """Health fell into the red band today; the measures that lost the most points say why.

    >>> e = health_red_event(7, "Acme", date(2026, 12, 6), 38, 55, "yellow",
    ...     [{"name": "Active users", "shown": "12 %", "points": 2, "max_points": 30},
    ...      {"name": "Tickets", "shown": "9", "points": 10, "max_points": 10}], None)
    >>> e.headline
    'Health turned red: 38 of 100 (was 55, yellow)'
    >>> e.details
    ('Weakest: Active users: 12 % (2 of 30 points)',)
    """
    was = "" if previous_score is None else f" (was {previous_score}, {previous_band})"
    lost = sorted(
        (m for m in measures if int(m.get("max_points", 0)) > int(m.get("points", 0))),
        key=lambda m: int(m.get("points", 0)) - int(m.get("max_points", 0)),
    )[:2]
    weakest = "; ".join(
        measure_text(m.get("name"), m.get("shown"), m.get("points"), m.get("max_points"))
        for m in lost
    )
    return AlertEvent(
        key=f"health_red:{account_id}:{as_of.isoformat()}",
        kind="health_red",
        account_id=account_id,
        account_name=account_name,
        headline=f"Health turned red: {score} of 100{was}",
        details=(f"Weakest: {weakest}",) if weakest else (),
        owner_email=owner_email,
    )


def risk_crossed_event(
    account_id: int,
    account_name: str,
    as_of: date,
    probability: float,
    previous: float,
    threshold: float | None,
    reasons: Sequence[Mapping[str, Any]],
    renewal_on: date | None,
    owner_email: str | None,
) -> AlertEvent:
    """The churn model's probability rose past the admin's threshold since the last score (or,
    without one, the account entered the model's alert set); the reasons that raise it most.

    >>> e = risk_crossed_event(7, "Acme", date(2026, 12, 6), 0.62, 0.41, 0.5,
    ...     [{"feature": "touchpoints_90d", "value": 0.0, "contribution": 0.8},
    ...      {"feature": "seats", "value": 40, "contribution": -0.2}], date(2027, 2, 1), None)
    >>> e.headline
    'Churn risk 62 % (was 41 %), over the 50 % threshold'
    >>> risk_crossed_event(7, "Acme", date(2026, 12, 6), 0.33, 0.18, None, [], None, None).headline
    'Churn risk 33 % (was 18 %), now among the accounts most at risk'
    >>> e.details
    ('Renewal on 2027-02-01', 'Raising it: Touchpoints (90 days): 0')
    """
    raising = [reason_text(r) for r in reasons if float(r.get("contribution") or 0) > 0][:3]
    details = []
    if renewal_on is not None:
        details.append(f"Renewal on {renewal_on.isoformat()}")
    if raising:
        details.append("Raising it: " + "; ".join(raising))
    return AlertEvent(
        key=f"risk_crossed:{account_id}:{as_of.isoformat()}",
        kind="risk_crossed",
        account_id=account_id,
        account_name=account_name,
        headline=(
            f"Churn risk {percent(probability)} (was {percent(previous)}), "
            + (
                "now among the accounts most at risk"
                if threshold is None
                else f"over the {percent(threshold)} threshold"
            )
        ),
        details=tuple(details),
        owner_email=owner_email,
    )


def champion_left_event(
    account_id: int,
    account_name: str,
    contact_id: int,
    contact_name: str,
    contact_title: str | None,
    left_on: date,
    owner_email: str | None,
) -> AlertEvent:
    """
    >>> champion_left_event(7, "Acme", 3, "Ada Byron", "VP Ops", date(2026, 12, 4), None).headline
    'Champion left: Ada Byron (VP Ops), on 2026-12-04'
    """
    who = f"{contact_name} ({contact_title})" if contact_title else contact_name
    return AlertEvent(
        key=f"champion_left:{contact_id}",
        kind="champion_left",
        account_id=account_id,
        account_name=account_name,
        headline=f"Champion left: {who}, on {left_on.isoformat()}",
        owner_email=owner_email,
    )


@dataclass(frozen=True)
class CtaFacts:
    """What a CTA says about itself, as its page shows it."""

    id: int
    title: str
    priority: str
    due_on: date
    owner_id: int
    owner_name: str
    owner_email: str | None
    reason: str
    facts: Sequence[Mapping[str, Any]]
    description: str = ""
    goal: str | None = None
    next_step: str | None = None
    reassigned: bool = False


def cta_assigned_event(account_id: int, account_name: str, cta: CtaFacts) -> AlertEvent:
    """A CTA opened with an owner, or given to another one: the CTA's own why, goal and next
    step, the same words its page shows.

    >>> e = cta_assigned_event(7, "Acme", CtaFacts(
    ...     88, "Health turned red", "high", date(2026, 12, 11), 4, "Maria Silva", None,
    ...     "health_band = red (== red)",
    ...     [{"fact": "health_band", "op": "==", "threshold": "red", "value": "red",
    ...       "passed": True}],
    ...     "The account's health score fell into the red band.",
    ...     "Learn what changed for the customer and agree one step to recover",
    ...     "Open the health explanation and note the top two contributors"))
    >>> e.headline
    'New CTA for Maria Silva: Health turned red (high priority, due 2026-12-11)'
    >>> e.details[0]
    'Why: Health band red'
    >>> e.details[1]
    'Goal: Learn what changed for the customer and agree one step to recover'
    """
    verb = "CTA reassigned to" if cta.reassigned else "New CTA for"
    why = why_text(cta.facts) or cta.reason
    details = [f"Why: {why}"]
    if cta.goal:
        details.append(f"Goal: {cta.goal}")
    if cta.next_step:
        details.append(f"Next step: {cta.next_step}")
    if cta.description:
        details.append(cta.description)
    return AlertEvent(
        key=f"cta:{cta.id}:{cta.owner_id}",
        kind="cta_assigned",
        account_id=account_id,
        account_name=account_name,
        headline=(
            f"{verb} {cta.owner_name}: {cta.title} "
            f"({cta.priority} priority, due {cta.due_on.isoformat()})"
        ),
        details=tuple(details),
        owner_email=cta.owner_email,
    )


def compose(events: Sequence[AlertEvent], account_url: str, as_of: date) -> Message:
    """One message for one account: a line naming the account (linked to its page), each event's
    headline in bold with its details, and the day it is about.

    >>> m = compose([champion_left_event(7, "R&D <Labs>", 3, "Ada", None, date(2026, 12, 4),
    ...              None)], "https://cs.example.com/accounts/7", date(2026, 12, 6))
    >>> m.text
    'R&D <Labs>: Champion left: Ada, on 2026-12-04'
    >>> m.blocks[0]["text"]["text"]
    '*<https://cs.example.com/accounts/7|R&amp;D &lt;Labs&gt;>*'
    """
    ordered = sorted(events, key=lambda e: (list(KINDS).index(e.kind), e.key))[:_MAX_EVENTS]
    name = ordered[0].account_name
    blocks: list[dict[str, Any]] = [_section(f"*<{account_url}|{escape(name)}>*")]
    for event in ordered:
        lines = [f"*{escape(event.headline)}*", *(escape(d) for d in event.details)]
        blocks.append(_section("\n".join(lines)))
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Tenure, as of {as_of.isoformat()} · <{account_url}|Open the account>",
                }
            ],
        }
    )
    text = f"{name}: " + "; ".join(e.headline for e in ordered)
    return Message(ordered[0].account_id, [e.key for e in ordered], text, blocks)


def compose_digest(
    by_account: Sequence[Sequence[AlertEvent]], base_url: str, as_of: date
) -> Message:
    """One direct message for one CSM: every account of theirs with news, the busiest first, so
    a morning with thirty new CTAs is one message, not thirty. Slack allows 50 blocks: past
    ``_DIGEST_ACCOUNTS`` accounts the rest are counted and linked to Today.

    >>> ada = champion_left_event(7, "Acme", 3, "Ada", None, date(2026, 12, 4), None)
    >>> bo = champion_left_event(8, "Globex", 4, "Bo", None, date(2026, 12, 5), None)
    >>> m = compose_digest([[ada], [bo]], "https://cs.example.com", date(2026, 12, 6))
    >>> m.text
    '2 of your accounts need you: Acme, Globex'
    >>> m.blocks[1]["text"]["text"].splitlines()[0]
    '*<https://cs.example.com/accounts/7|Acme>*'
    """
    groups = sorted(
        (sorted(g, key=lambda e: (list(KINDS).index(e.kind), e.key)) for g in by_account if g),
        key=lambda g: (-len(g), g[0].account_name),
    )
    if len(groups) == 1:  # one account: the channel's message
        return compose(groups[0], f"{base_url}/accounts/{groups[0][0].account_id}", as_of)
    shown, rest = groups[:_DIGEST_ACCOUNTS], groups[_DIGEST_ACCOUNTS:]
    names = ", ".join(g[0].account_name for g in groups[:5]) + (", …" if len(groups) > 5 else "")
    count = f"{len(groups)} of your accounts need you"
    blocks: list[dict[str, Any]] = [_section(f"*{escape(count)}* (as of {as_of.isoformat()})")]
    for group in shown:
        url = f"{base_url}/accounts/{group[0].account_id}"
        lines = [f"*<{url}|{escape(group[0].account_name)}>*"]
        for event in group[:_MAX_EVENTS]:
            lines.append(f"• *{escape(event.headline)}*")
            lines += [f"    {escape(d)}" for d in event.details]
        blocks.append(_section("\n".join(lines)))
    if rest:
        more = f"and {len(rest)} more accounts: <{base_url}/today|open Today in Tenure>"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    events = [e.key for g in groups for e in g]
    return Message(None, events, f"{count}: {names}", blocks)


def _section(text: str) -> dict[str, Any]:
    if len(text) > _SECTION_CHARS:
        text = text[: _SECTION_CHARS - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def dedupe_key(as_of: date, account_id: int, destination: str, events: Iterable[str]) -> str:
    """The same events to the same place on the same day are one message, whatever re-runs."""
    digest = hashlib.sha256("\n".join(sorted(events)).encode()).hexdigest()[:16]
    return f"{as_of.isoformat()}:{account_id}:{destination}:{digest}"[:400]
