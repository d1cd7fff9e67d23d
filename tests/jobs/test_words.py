"""Every step the daily run records reads in words on the Daily runs page and in `tenure run
daily` — the Slack alerts step and its counts included — never as its key."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, cast

from tenure.jobs.daily import DailyContext, steps
from tenure.jobs.words import STEPS, count_words, step_words
from tenure.playbooks.alerts import KINDS


def test_every_daily_step_has_its_words() -> None:
    ctx = DailyContext(
        as_of=date(2026, 3, 1),
        ruleset=cast(Any, None),
        settings=cast(Any, None),
        run_id=1,
        store=cast(Any, object()),
        data_dir=Path("."),
    )
    names = [name for name, _ in steps(ctx)] + ["slack_alerts", "outbox", "webhooks", "slack"]
    assert [n for n in names if n not in STEPS] == []
    assert step_words("renewal_forecast") == "Renewal forecast"
    assert step_words("family_ranking") == "Top parents ranking"
    assert count_words("family_ranking", {"families": 9_876}) == "9,876 families"
    assert step_words("slack_alerts") == "Slack alerts"


def test_the_slack_alerts_counts_read_in_words() -> None:
    # The counts queue_alerts returns: messages queued, and the events by kind.
    counts = {"queued": 4, **{f"{kind}_events": i + 1 for i, kind in enumerate(KINDS)}}
    line = count_words("slack_alerts", counts)
    assert line == (
        "4 messages queued, 1 health turned red, 2 churn risk rose, 3 champions left, "
        "4 CTAs assigned"
    )
    assert "_" not in line and "events" not in line
    sent = {"sent": 3, "retried": 1, "failed": 0, "resumed": 0, "rate_limited": 2}
    assert count_words("slack", sent) == (
        "3 sent, 1 retried, 0 failed, 0 resumed, 2 held back by Slack's rate limit"
    )


def test_the_maturity_pillars_read_as_names() -> None:
    counts = {"roi": "undeveloped", "onboarding": "expanding", "productivity": "emerging"}
    assert count_words("maturity", counts) == (
        "ROI undeveloped, Onboarding expanding, Productivity emerging"
    )
