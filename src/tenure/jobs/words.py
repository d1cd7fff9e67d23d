"""The daily run's steps and what each counted, in a CS manager's words (the run stores them
as keys: ``band_changes``, ``follow_ups``, ``no_contract``).

>>> step_words("message_goals")
'Engagement message goals'
>>> count_words("health", {"scored": 264, "green": 170, "band_changes": 29})
'264 scored, 170 green, 29 changed band'
>>> count_words("lifecycle", {"model": "laer", "renew": 61, "no_contract": 40})
'Renew 61, no active contract 40'
>>> count_words("slack_alerts", {"risk_crossed_events": 2, "queued": 3, "health_red_events": 1})
'3 messages queued, 1 health turned red, 2 churn risk rose'
"""

from __future__ import annotations

from typing import Any

from tenure.accounts.words import key_words
from tenure.success.lifecycle_variants import STAGE_LABELS

STEPS = {
    "metrics": "Usage figures",
    "health": "Health scores",
    "risk": "Churn risk",
    "milestones": "Success plan milestones",
    "lifecycle": "Lifecycle stages",
    "judgements": "Current judgements per account",
    "message_goals": "Engagement message goals",
    "churn": "Churn classification",
    "facts": "Facts for the rules",
    "rules": "Calls to action",
    "follow_ups": "Follow-ups",
    "outbox": "E-mail outbox",
    "webhooks": "Webhooks",
    "kpis": "KPIs",
    "maturity": "Maturity",
    "ebr_peers": "EBR peer groups",
    "renewal_forecast": "Renewal forecast",
    "family_ranking": "Top parents ranking",
    "slack_alerts": "Slack alerts",
    "slack": "Slack messages posted",
}
COUNTS = {
    "band_changes": "changed band",
    "not_met": "not met",
    "no_contract": "no active contract",
    "created": "opened",
    "suppressed": "held back (cap or cool-down)",
    "already": "already classified",
    "asks": "expansion asks",
    "waiting": "waiting",
    "raised": "raised",
    "alerts": "in the alert set",
    # The Slack alerts step: messages queued, and the events they tell of, by kind.
    "queued": "messages queued",
    "health_red_events": "health turned red",
    "risk_crossed_events": "churn risk rose",
    "champion_left_events": "champions left",
    "cta_assigned_events": "CTAs assigned",
    "rate_limited": "held back by Slack's rate limit",
}


# The order a count reads best in (PostgreSQL's JSONB keeps keys in its own order).
ORDER = [
    "queued",
    "health_red_events",
    "risk_crossed_events",
    "champion_left_events",
    "cta_assigned_events",
    "accounts",
    "scored",
    "checked",
    "created",
    "classified",
    "metrics",
    "facts",
    "green",
    "yellow",
    "red",
    "band_changes",
    "alerts",
    "raised",
    "reached",
    "asks",
    "met",
    "not_met",
    "already",
    "suppressed",
    "woken",
    "escalated",
    "digests",
    "waiting",
]
STAGE_ORDER = [*STAGE_LABELS, "no_contract"]


def step_lines(steps: list[dict[str, Any]], counts: dict[str, Any]) -> list[tuple[str, str]]:
    """(step in words, what it counted) in the order the run took its steps."""
    names = [s.get("name") for s in steps]
    ordered = [n for n in names if n in counts] + [n for n in counts if n not in names]
    return [(step_words(n), count_words(n, counts[n])) for n in ordered]


def step_words(step: str | None) -> str:
    """A step's name as people say it (an unknown step's key in words)."""
    return STEPS.get(step or "", key_words(step))


def count_words(step: str, counts: Any) -> str:
    """What a step counted, as one line: '264 scored, 170 green, 29 changed band'."""
    if not isinstance(counts, dict):
        return "" if counts is None else str(counts)
    parts = []
    order = STAGE_ORDER if step == "lifecycle" else ORDER
    rank = {key: i for i, key in enumerate(order)}
    for key, value in sorted(counts.items(), key=lambda kv: rank.get(kv[0], len(rank))):
        if step == "lifecycle" and key == "model":
            continue  # the model in force is said on the Lifecycle page
        if step == "maturity":  # pillar and the stage it reached: 'ROI undeveloped'
            parts.append(f"{key_words(key)} {value}")
        elif step == "lifecycle" and (key in STAGE_LABELS or key in COUNTS):
            parts.append(f"{STAGE_LABELS.get(key) or COUNTS[key]} {_number(value)}")
        else:
            parts.append(f"{_number(value)} {COUNTS.get(key) or key_words(key).lower()}")
    return ", ".join(parts)


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
