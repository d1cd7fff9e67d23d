"""A closed CTA as a CRM task's words, the same in Salesforce and HubSpot: the CTA's title as
the subject; its outcome, why it was opened (as its page says it) and the CSM's note as the body.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenure.model import Cta
from tenure.playbooks.wording import why_text


def task_subject(cta: Cta) -> str:
    return f"Tenure CTA: {cta.title}"[:255]


def task_description(cta: Cta) -> str:
    """Why the CTA was opened and how it ended, as its page says it."""
    why = why_text(cta.facts) or cta.reason
    outcome = cta.outcome.value.replace("_", " ") if cta.outcome else "closed"
    lines = [f"Outcome: {outcome}", f"Why it was opened: {why}"]
    if cta.outcome_note:
        lines.append(f"Note: {cta.outcome_note}")
    return "\n".join(lines)[:32000]


@dataclass(frozen=True)
class TaskOutcome:
    """What a CRM answered for one task: its id, or why there is none. ``unsure``: the call
    failed after it was sent (a 5xx, a lost answer), so the task may exist all the same."""

    task_id: str | None
    error: str = ""
    unsure: bool = False
