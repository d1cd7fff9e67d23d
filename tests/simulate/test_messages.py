"""The messages the simulated CS team sent from Tenure (issue 18: the demo had none): only over
the last 90 days, to a person of that account, from the CSM owning it that day, each with a goal
and one complete check."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tenure.simulate.messages import CHECK_DAYS, MESSAGES_DAYS


def test_messages_go_to_the_accounts_people_with_a_goal_and_a_check(tiny_run: Path) -> None:
    messages = pd.read_parquet(tiny_run / "messages.parquet")
    contacts = pd.read_parquet(tiny_run / "contacts.parquet")
    touchpoints = pd.read_parquet(tiny_run / "touchpoints.parquet")
    assert set(messages.moment) == {"risk_outreach", "renewal_prep"}
    assert messages.external_id.is_unique
    last_day = pd.to_datetime(touchpoints.occurred_at).dt.date.max()
    sent = pd.to_datetime(messages.sent_on).dt.date
    assert ((last_day - sent).map(lambda d: d.days) < MESSAGES_DAYS).all()
    to = messages.merge(contacts, left_on="contact_external_id", right_on="external_id")
    assert len(to) == len(messages)
    assert (to.account_external_id_x == to.account_external_id_y).all()
    assert messages.sender_email.str.match(r"csm\d{3}@cs\.example\.com").all()
    assert (messages.check_after_days == CHECK_DAYS).all()
    risk = messages[messages.moment == "risk_outreach"]
    assert (risk.metric == "license_utilization").all()
    assert ((risk.target > 0) & (risk.target <= 1)).all()
    renewal = messages[messages.moment == "renewal_prep"]
    assert (renewal.metric == "sponsor_engaged").all() and (renewal.target == 1).all()
