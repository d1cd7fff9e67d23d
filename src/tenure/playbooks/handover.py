"""Telling a CTA's new owner at once: when accounts are reassigned, the open CTAs that go with
them are news to their new owner now, not at the next daily run. One e-mail through the outbox
(kind ``cta_handover``, deduplicated per CTA event) and the Slack alert when Slack is connected,
both queued in the caller's transaction: nothing is sent if the reassignment rolls back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tenure.model import Account, Cta, User
from tenure.playbooks import outbox
from tenure.playbooks.config import playbook_settings
from tenure.playbooks.wording import why_text


def handover_mail(
    ctas: list[tuple[Cta, Account]], new_owner: User, from_name: str | None, public_url: str
) -> tuple[str, str]:
    """The subject and body of the e-mail telling ``new_owner`` which CTAs they now hold, each
    with its why and due date and a link (pure)."""
    accounts = sorted({account.name for _, account in ctas})
    count = f"{len(ctas)} CTA{'s' if len(ctas) != 1 else ''}"
    subject = f"{count} handed to you: {', '.join(accounts)}"[:200]
    lines = [f"Hello {new_owner.name},", ""]
    several = len(accounts) > 1
    lines.append(
        f"{'These accounts were' if several else 'This account was'} given to you"
        + (f" (from {from_name})" if from_name else "")
        + f", and {'their open CTAs with them' if several else 'its open CTAs with it'}:"
    )
    base = public_url.rstrip("/")
    for cta, account in ctas:
        lines += [
            "",
            f"- {account.name}: {cta.title} ({cta.priority.value} priority, due {cta.due_on})",
            f"  Why: {why_text(cta.facts) or cta.reason}",
            f"  {base}/ctas/{cta.id}",
        ]
    return subject, "\n".join(lines) + "\n"


def tell_new_owner(
    session: Session,
    ctas: list[Cta],
    new_owner: User,
    previous_owner: User | None,
    now: datetime,
) -> dict[str, int]:
    """Queue the e-mail and the Slack alert for CTAs just handed to ``new_owner``."""
    from tenure.playbooks.alerts_service import queue_handover_alerts

    if not ctas:
        return {}
    settings = playbook_settings()
    pairs = [(cta, session.get_one(Account, cta.account_id)) for cta in ctas]
    subject, body = handover_mail(
        pairs, new_owner, previous_owner.name if previous_owner else None, settings.public_url
    )
    stamp = now.strftime("%Y%m%dT%H%M%S")
    mail = outbox.enqueue(
        session,
        kind="cta_handover",
        goal="Let the new owner act on the customers' open CTAs today",
        recipient=new_owner.email,
        subject=subject,
        body=body,
        sender=settings.mail_from,
        dedupe_key=f"cta_handover:{new_owner.id}:{min(c.id for c in ctas)}:{stamp}",
        account_id=pairs[0][1].id if len({a.id for _, a in pairs}) == 1 else None,
        now=now,
    )
    slack = queue_handover_alerts(session, [cta.id for cta in ctas], now)
    return {"emails": int(mail is not None), "slack_alerts": slack.get("queued", 0)}
