"""A hand-built customer base whose every metric was computed by hand (see EXPECTED).

As of 2025-03-31 (cutoff 2025-04-01 00:00 UTC). Windows: 1 day = 03-31; 7 days = 03-25…03-31;
28 days = 03-04…03-31; the 28 days before = 02-04…03-03; 90 days = 01-01…03-31.

Accounts, each there for a reason:
- acme (1): rich usage across windows, with rows just either side of every boundary;
- bolt (2): an account with nothing at all — defaults (0 / no data) must hold;
- cargo (3): created after the as-of day — must not appear;
- dyna (4): usage attributed only through its contacts, two currencies, executive coverage.

Feature catalog as of 03-31: report (strategic, 2024-01-01), export (no release date → always
released), alerts (strategic, released 2025-02-15 → "new"); ai_summary is released 2025-04-10,
after the as-of day, so it is not in the catalog yet.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import count
from typing import Any

AS_OF = date(2025, 3, 31)

_ids = count(1)


def ts(year: int, month: int, day: int, *hms: int) -> datetime:
    return datetime(year, month, day, *hms, tzinfo=UTC)


def event(
    when: datetime, name: str, *, user: str | None, account: str | None = None
) -> dict[str, Any]:
    return {
        "message_id": f"m{next(_ids)}",
        "source": "fixture",
        "type": "track",
        "account_id": account,
        "user_id": user,
        "anonymous_id": None if user else "anon-1",
        "event": name,
        "timestamp": when,
        "received_at": when,
        "properties": None,
    }


ACCOUNTS = [
    {
        "id": 1,
        "external_id": "acme",
        "name": "Acme",
        "segment": "enterprise",
        # Its Desired Outcome calls for a named CSM and sponsor reviews (Appropriate Experience).
        "experience_segment": "high_touch",
        "created_on": date(2023, 3, 1),
    },
    {
        "id": 2,
        "external_id": "bolt",
        "name": "Bolt",
        "segment": "smb",
        "created_on": date(2025, 1, 1),
    },
    {
        "id": 3,
        "external_id": "cargo",
        "name": "Cargo",
        "segment": "smb",
        "created_on": date(2025, 4, 15),
    },
    {"id": 4, "external_id": "dyna", "name": "Dyna", "segment": "mid_market", "created_on": None},
]

FEATURES = [
    {"key": "report", "strategic": True, "released_on": date(2024, 1, 1)},
    {"key": "export", "strategic": False, "released_on": None},
    {"key": "alerts", "strategic": True, "released_on": date(2025, 2, 15)},
    {"key": "ai_summary", "strategic": False, "released_on": date(2025, 4, 10)},
]

CONTACTS = [
    # acme: c1 champion end user, c2 sponsor manager, c5 end user without dates;
    # c3 a champion director who left ON the as-of day (gone at its end → not active, "left");
    # c4 an executive who joins after the as-of day.
    {
        "id": 11,
        "external_id": "u1",
        "account_id": 1,
        "level": "end_user",
        "is_champion": True,
        "is_sponsor": False,
        "joined_on": date(2024, 1, 1),
        "left_on": None,
    },
    {
        "id": 12,
        "external_id": "u2",
        "account_id": 1,
        "level": "manager",
        "is_champion": False,
        "is_sponsor": True,
        "joined_on": date(2024, 1, 1),
        "left_on": None,
    },
    {
        "id": 13,
        "external_id": "u9",
        "account_id": 1,
        "level": "director_vp",
        "is_champion": True,
        "is_sponsor": False,
        "joined_on": date(2023, 5, 1),
        "left_on": date(2025, 3, 31),
    },
    {
        "id": 14,
        "external_id": "u8",
        "account_id": 1,
        "level": "executive",
        "is_champion": False,
        "is_sponsor": False,
        "joined_on": date(2025, 4, 2),
        "left_on": None,
    },
    {
        "id": 15,
        "external_id": "u7",
        "account_id": 1,
        "level": "end_user",
        "is_champion": False,
        "is_sponsor": False,
        "joined_on": None,
        "left_on": None,
    },
    # dyna: one of each level (the executive covers director-VP); d2 is the sponsor.
    {
        "id": 41,
        "external_id": "d1",
        "account_id": 4,
        "level": "end_user",
        "is_champion": False,
        "is_sponsor": False,
        "joined_on": None,
        "left_on": None,
    },
    {
        "id": 42,
        "external_id": "d2",
        "account_id": 4,
        "level": "manager",
        "is_champion": False,
        "is_sponsor": True,
        "joined_on": None,
        "left_on": None,
    },
    {
        "id": 43,
        "external_id": "d3",
        "account_id": 4,
        "level": "executive",
        "is_champion": False,
        "is_sponsor": False,
        "joined_on": None,
        "left_on": None,
    },
]

CONTRACTS = [
    # acme: C1 + C2 active (seats 10 + 5, ARR 12000 + 3000 USD, discounts 0.1 and 0.2);
    # C3 ended a year ago (sets tenure: first start 2023-04-01); C4 pending; C5 starts 04-01.
    {
        "id": 1,
        "account_id": 1,
        "starts_on": date(2024, 4, 1),
        "ends_on": date(2025, 6, 30),
        "arr": 12000.0,
        "currency": "USD",
        "licensed_seats": 10,
        "discount": 0.1,
        "status": "active",
        # Renewed on the as-of day itself: booked as of 03-31 (renewal_booked).
        "renewal_outcome": "renewed",
        "outcome_on": date(2025, 3, 31),
    },
    {
        "id": 2,
        "account_id": 1,
        "starts_on": date(2025, 1, 1),
        "ends_on": date(2025, 12, 31),
        "arr": 3000.0,
        "currency": "USD",
        "licensed_seats": 5,
        "discount": 0.2,
        "status": "active",
        "outcome_on": None,
    },
    {
        "id": 3,
        "account_id": 1,
        "starts_on": date(2023, 4, 1),
        "ends_on": date(2024, 3, 31),
        "arr": 9000.0,
        "currency": "USD",
        "licensed_seats": 8,
        "discount": None,
        "status": "ended",
        "outcome_on": date(2024, 3, 31),
    },
    {
        "id": 4,
        "account_id": 1,
        "starts_on": date(2025, 3, 1),
        "ends_on": date(2026, 2, 28),
        "arr": 50000.0,
        "currency": "USD",
        "licensed_seats": 100,
        "discount": None,
        "status": "pending",
        "outcome_on": None,
    },
    {
        "id": 5,
        "account_id": 1,
        "starts_on": date(2025, 4, 1),
        "ends_on": date(2026, 3, 31),
        "arr": 7000.0,
        "currency": "USD",
        "licensed_seats": 7,
        "discount": 0.5,
        "status": "active",
        "outcome_on": None,
    },
    # dyna: D1 USD and D2 EUR active (D2 ends ON the as-of day: still in force), no seats;
    # D3 (GBP) cancelled on 2025-02-01, so not active — but it started first (tenure).
    {
        "id": 41,
        "account_id": 4,
        "starts_on": date(2025, 1, 1),
        "ends_on": date(2025, 12, 31),
        "arr": 1000.0,
        "currency": "USD",
        "licensed_seats": None,
        "discount": None,
        "status": "active",
        "outcome_on": None,
    },
    {
        "id": 42,
        "account_id": 4,
        "starts_on": date(2025, 1, 1),
        "ends_on": date(2025, 3, 31),
        "arr": 2000.0,
        "currency": "EUR",
        "licensed_seats": None,
        "discount": None,
        "status": "active",
        # Its expansion is recorded on 04-01, after the as-of day: not booked yet.
        "renewal_outcome": "expanded",
        "outcome_on": date(2025, 4, 1),
    },
    {
        "id": 43,
        "account_id": 4,
        "starts_on": date(2024, 6, 1),
        "ends_on": date(2025, 5, 31),
        "arr": 5000.0,
        "currency": "GBP",
        "licensed_seats": None,
        "discount": None,
        "status": "cancelled",
        "outcome_on": date(2025, 2, 1),
    },
]

SURVEYS = [
    {"id": 1, "account_id": 1, "kind": "nps", "score": 6, "responded_at": ts(2024, 10, 1)},
    {"id": 2, "account_id": 1, "kind": "nps", "score": 9, "responded_at": ts(2025, 2, 1)},
    {"id": 3, "account_id": 1, "kind": "nps", "score": 3, "responded_at": ts(2025, 4, 1)},
    {"id": 4, "account_id": 1, "kind": "csat", "score": 5, "responded_at": ts(2025, 3, 1)},
    {"id": 5, "account_id": 4, "kind": "nps", "score": 8, "responded_at": ts(2025, 3, 1)},
]

# Billing tickets in the 90 days to 03-31 (from 01-01 00:00): #1 ("Billing": any case) and #2;
# not #4 (opened at the cutoff) nor #6 (opened the day before the window).
# Requests to cut or leave (asks_to_leave: what load_snapshot reads from the subject) in the 90
# days: acme's #5 (no category) and #8 count, #4 (at the cutoff) and #6 (before the window) do
# not; dyna's #7, opened on the window's first instant, counts. #1's "Seat count on invoice" is
# no such request. Before the renewal (opened after the day 180 days before it): acme renews on
# 06-30, so from 01-02 — #5, not #8 (01-01); dyna renews on 03-31, so from 2024-10-03 — #7, not
# #9 (2024-10-02).
TICKETS = [
    {
        "id": 1,
        "account_id": 1,
        "subject": "Seat count on invoice",
        "asks_to_leave": False,
        "priority": "high",
        "category": "Billing",
        "opened_at": ts(2025, 3, 1),
        "closed_at": None,
    },
    # closed exactly at the cutoff: still open at the end of the as-of day
    {
        "id": 2,
        "account_id": 1,
        "subject": "Invoice question",
        "asks_to_leave": False,
        "priority": "urgent",
        "category": "billing",
        "opened_at": ts(2025, 3, 1),
        "closed_at": ts(2025, 4, 1),
    },
    {
        "id": 3,
        "account_id": 1,
        "subject": "Where is the export?",
        "asks_to_leave": False,
        "priority": "normal",
        "opened_at": ts(2025, 2, 1),
        "closed_at": ts(2025, 3, 15),
    },
    # opened exactly at the cutoff: not yet
    {
        "id": 4,
        "account_id": 1,
        "subject": "Notice of termination",
        "asks_to_leave": True,
        "priority": "low",
        "category": "billing",
        "opened_at": ts(2025, 4, 1),
        "closed_at": None,
    },
    {
        "id": 5,
        "account_id": 1,
        "subject": "Cancel our subscription at renewal",
        "asks_to_leave": True,
        "priority": "normal",
        "opened_at": ts(2025, 3, 20),
        "closed_at": None,
    },
    {
        "id": 6,
        "account_id": 1,
        "subject": "Reduce seats at renewal",
        "asks_to_leave": True,
        "priority": "normal",
        "category": "billing",
        "opened_at": ts(2024, 12, 31),
        "closed_at": ts(2025, 1, 5),
    },
    {
        "id": 7,
        "account_id": 4,
        "subject": "Bulk export of all our data",
        "asks_to_leave": True,
        "priority": "normal",
        "category": "how_to",
        "opened_at": ts(2025, 1, 1),
        "closed_at": ts(2025, 1, 2),
    },
    {
        "id": 8,
        "account_id": 1,
        "subject": "Contract end date and notice period",
        "asks_to_leave": True,
        "priority": "normal",
        "category": "how_to",
        "opened_at": ts(2025, 1, 1, 12),
        "closed_at": ts(2025, 1, 3),
    },
    {
        "id": 9,
        "account_id": 4,
        "subject": "We will not renew",
        "asks_to_leave": True,
        "priority": "low",
        "category": "how_to",
        "opened_at": ts(2024, 10, 2, 23, 59),
        "closed_at": ts(2024, 10, 3),
    },
]


TOUCHPOINTS = [
    # acme's sponsor was met one microsecond before the 90-day window and at the cutoff: neither
    # counts. dyna's sponsor was met on the window's first instant: counts.
    {
        "id": 1,
        "account_id": 1,
        "occurred_at": datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    },
    {"id": 2, "account_id": 1, "occurred_at": ts(2025, 4, 1)},
    {"id": 3, "account_id": 4, "occurred_at": ts(2025, 1, 1)},
    # a working session with nobody on record: counts as a touchpoint, not as sponsor contact
    {"id": 4, "account_id": 1, "occurred_at": ts(2025, 2, 10)},
]

ATTENDEES = [
    {"touchpoint_id": 1, "contact_id": 12},
    {"touchpoint_id": 2, "contact_id": 12},
    {"touchpoint_id": 3, "contact_id": 42},
]

# acme's plan started 2024-04-01: m1, m2 reached (m2 late, still reached); m3 due 03-01 unreached
# and m5 reached only on 04-02 are overdue on 03-31; m4 is not due yet; m6 is due ON 03-31 (not
# late yet). dyna's plan starts 2025-05-01, after the as-of day: it does not count yet.
PLANS = [
    {"id": 1, "account_id": 1, "started_on": date(2024, 4, 1)},
    {"id": 4, "account_id": 4, "started_on": date(2025, 5, 1)},
]
MILESTONES = [
    {"plan_id": 1, "key": "m1", "due_on": date(2024, 5, 1), "reached_on": date(2024, 4, 20)},
    {"plan_id": 1, "key": "m2", "due_on": date(2024, 7, 1), "reached_on": date(2024, 8, 15)},
    {"plan_id": 1, "key": "m3", "due_on": date(2025, 3, 1), "reached_on": None},
    {"plan_id": 1, "key": "m4", "due_on": date(2025, 6, 1), "reached_on": None},
    {"plan_id": 1, "key": "m5", "due_on": date(2025, 2, 1), "reached_on": date(2025, 4, 2)},
    {"plan_id": 1, "key": "m6", "due_on": date(2025, 3, 31), "reached_on": None},
    {"plan_id": 4, "key": "m1", "due_on": date(2025, 2, 1), "reached_on": date(2025, 1, 1)},
]


def milestone_rows() -> list[dict[str, Any]]:
    """Milestones as the snapshot sees them: with their account and plan start."""
    plans = {p["id"]: p for p in PLANS}
    return [
        {
            "account_id": plans[m["plan_id"]]["account_id"],
            "due_on": m["due_on"],
            "reached_on": m["reached_on"],
            "plan_started_on": plans[m["plan_id"]]["started_on"],
        }
        for m in MILESTONES
    ]


EVENTS = [
    # --- acme, trailing 28 days (03-04…03-31): 8 events, 7 by known users u1, u2, u3
    event(ts(2025, 3, 31, 10), "report", user="u1", account="acme"),
    event(
        datetime(2025, 3, 31, 23, 59, 59, 999999, tzinfo=UTC), "report", user="u1", account="acme"
    ),
    event(ts(2025, 3, 30, 8), "export", user="u1", account="acme"),
    event(ts(2025, 3, 31, 12), "ai_summary", user="u1", account="acme"),
    event(ts(2025, 3, 25), "report", user="u2", account="acme"),
    event(ts(2025, 3, 10, 9), "export", user="u2", account="acme"),
    event(ts(2025, 3, 4), "report", user="u3", account="acme"),
    event(ts(2025, 3, 15, 9), "export", user=None, account="acme"),
    # --- acme, the 28 days before (02-04…03-03): 5 events
    event(ts(2025, 3, 2, 9), "alerts", user="u1", account="acme"),
    event(datetime(2025, 3, 3, 23, 59, tzinfo=UTC), "export", user="u4", account="acme"),
    event(ts(2025, 2, 10, 9), "report", user="u2", account="acme"),
    event(ts(2025, 2, 10, 10), "report", user="u2", account="acme"),
    event(ts(2025, 2, 20, 9), "alerts", user="u5", account="acme"),
    # --- acme, older; and one at the cutoff (look-ahead: must be ignored)
    event(ts(2024, 12, 1, 9), "report", user="u1", account="acme"),
    event(ts(2025, 4, 1), "report", user="u1", account="acme"),
    # d1 is dyna's contact, but the event names acme: the event's own account wins
    event(ts(2025, 1, 15, 9), "report", user="d1", account="acme"),
    # --- dyna: no account id, or one nobody has → attributed through contact d1
    event(ts(2025, 2, 1, 9), "alerts", user="d1"),  # before alerts' release: not adoption
    event(ts(2025, 3, 28, 9), "report", user="d1"),
    event(ts(2025, 3, 29, 9), "export", user="d1", account="ghost"),
    # --- nobody's: unknown account and unknown user → dropped
    event(ts(2025, 3, 30, 9), "report", user="stranger"),
    event(ts(2025, 3, 30, 9), "report", user=None, account="ghost"),
]

# Won renewal opportunities (renewal_booked, rule 3): dyna's is won on 04-01, the day after —
# not booked as of 03-31; bolt has no contract, so a win books nothing.
WON_RENEWALS = [
    {"account_id": 4, "closed_on": date(2025, 4, 1)},
    {"account_id": 2, "closed_on": date(2025, 3, 1)},
]

SNAPSHOT_ROWS: dict[str, list[dict[str, Any]]] = {
    "accounts": ACCOUNTS,
    "contacts": CONTACTS,
    "features": FEATURES,
    "contracts": CONTRACTS,
    "surveys": SURVEYS,
    "tickets": TICKETS,
    "touchpoints": TOUCHPOINTS,
    "attendees": ATTENDEES,
    "milestones": milestone_rows(),
    "won_renewals": WON_RENEWALS,
}

NULL = None

EXPECTED: dict[str, dict[str, Any]] = {
    "acme": {
        "active_users_1d": 1,  # u1 on 03-31 (the 04-01 00:00 event is after the cutoff)
        "active_users_7d": 2,  # u1 (03-30, 03-31), u2 (03-25)
        "active_users_28d": 3,  # u1, u2, u3 (03-04, the window's first day)
        # user-days: u1 {03-30, 03-31} + u2 {03-10, 03-25} + u3 {03-04} = 5; 5 / (28 × 3)
        "dau_mau": 5 / 84,
        "license_utilization": 3 / 15,  # 3 active users ÷ (10 + 5) seats of C1, C2
        "events_per_active_user": 7 / 3,  # 7 known-user events ÷ 3 users (anonymous excluded)
        "events_28d": 8,  # all 8 in 03-04…03-31, the anonymous one included
        "feature_breadth": 2 / 3,  # report, export of {report, export, alerts}
        "strategic_adoption": 1 / 2,  # report of {report, alerts}
        "new_feature_adoption": 1.0,  # alerts (released 02-15) used 03-02 by u1
        "usage_trend": (8 - 5) / 5,  # 8 events now vs 5 in 02-04…03-03
        "days_since_last_activity": 0,
        # 8 + 5 in the two windows, 2024-12-01 and d1's 2025-01-15 (the 04-01 one is after it)
        "lifetime_events": 15,
        "events_per_active_month": 15 / 4,  # months 2024-12, 2025-01, 2025-02, 2025-03
        "contacts_end_user": 2,  # c1, c5
        "contacts_manager": 1,  # c2
        "contacts_director_vp": 0,  # c3 left on 03-31, c4 joins 04-02
        "levels_covered": 2,
        "relationship_coverage": 0,
        "champion_present": 1,  # c1
        "champion_left_90d": 1,  # c3 left 03-31
        "sponsor_engaged": 0,  # both sponsor touchpoints fall just outside the window
        "touchpoints_90d": 1,  # #4 only: #1 is a microsecond early, #2 at the cutoff
        "nps_latest": 9,  # 2025-02-01 (the 04-01 answer is after the cutoff; csat ignored)
        "nps_trend": 3,  # 9 − 6
        "open_tickets": 3,  # #1, #2 (closed at the cutoff), #5
        "open_high_priority_tickets": 2,  # #1 high, #2 urgent
        "billing_tickets_90d": 2,  # #1, #2
        "leaving_requests_90d": 2,  # #5, #8 (#4 at the cutoff, #6 before the window)
        "leaving_requests_before_renewal": 1,  # #5 (#8 on 01-01, 180 days before 06-30)
        "milestone_progress": 2 / 6,  # m1, m2 of six
        "milestones_overdue": 2,  # m3, m5
        "arr": 15000.0,  # C1 + C2, USD
        "arr_currency": "USD",
        "licensed_seats": 15,
        "discount": (0.1 + 0.2) / 2,
        "days_to_renewal": 91,  # C1 ends 2025-06-30: 30 + 31 + 30 days after 03-31
        "renewal_booked": 1,  # C1, the first to renew, was renewed on 03-31
        "tenure_days": 730,  # 2023-04-01 → 2024-04-01 (366, leap year) → 2025-03-31 (364)
    },
    "bolt": {
        "active_users_1d": 0,
        "active_users_7d": 0,
        "active_users_28d": 0,
        "dau_mau": NULL,
        "license_utilization": NULL,
        "events_per_active_user": NULL,
        "events_28d": 0,
        "feature_breadth": 0.0,
        "strategic_adoption": 0.0,
        "new_feature_adoption": 0.0,
        "usage_trend": NULL,
        "days_since_last_activity": NULL,
        "lifetime_events": 0,
        "events_per_active_month": NULL,
        "contacts_end_user": 0,
        "contacts_manager": 0,
        "contacts_director_vp": 0,
        "levels_covered": 0,
        "relationship_coverage": 0,
        "champion_present": 0,
        "champion_left_90d": 0,
        "sponsor_engaged": 0,
        "touchpoints_90d": 0,
        "nps_latest": NULL,
        "nps_trend": NULL,
        "open_tickets": 0,
        "open_high_priority_tickets": 0,
        "billing_tickets_90d": 0,
        "leaving_requests_90d": 0,
        "leaving_requests_before_renewal": 0,  # no renewal
        "milestone_progress": NULL,
        "milestones_overdue": 0,
        "arr": NULL,
        "arr_currency": NULL,
        "licensed_seats": NULL,
        "discount": NULL,
        "days_to_renewal": NULL,
        "renewal_booked": 0,  # no contract
        "tenure_days": NULL,
    },
    "dyna": {
        "active_users_1d": 0,
        "active_users_7d": 1,  # d1 on 03-28 and 03-29
        "active_users_28d": 1,
        "dau_mau": 2 / 28,  # 2 user-days ÷ (28 × 1)
        "license_utilization": NULL,  # no seats licensed
        "events_per_active_user": 2.0,
        "events_28d": 2,
        "feature_breadth": 2 / 3,  # report, export
        "strategic_adoption": 1 / 2,  # report
        "new_feature_adoption": 0.0,  # alerts used only before its release
        "usage_trend": NULL,  # no events in 02-04…03-03
        "days_since_last_activity": 2,  # last event 03-29
        "lifetime_events": 3,  # 02-01, 03-28, 03-29 through contact d1
        "events_per_active_month": 3 / 2,  # February and March
        "contacts_end_user": 1,
        "contacts_manager": 1,
        "contacts_director_vp": 1,  # the executive counts
        "levels_covered": 3,
        "relationship_coverage": 1,
        "champion_present": 0,
        "champion_left_90d": 0,
        "sponsor_engaged": 1,  # d2 met 2025-01-01 00:00, the window's first instant
        "touchpoints_90d": 1,  # the same touchpoint
        "nps_latest": 8,
        "nps_trend": NULL,  # one answer only
        "open_tickets": 0,
        "open_high_priority_tickets": 0,
        "billing_tickets_90d": 0,
        "leaving_requests_90d": 1,  # #7, on the window's first instant
        "leaving_requests_before_renewal": 1,  # #7 (#9 on 2024-10-02, 180 days before 03-31)
        "milestone_progress": NULL,  # the plan starts after the as-of day
        "milestones_overdue": 0,
        "arr": NULL,  # USD and EUR are never summed
        "arr_currency": "multiple",
        "licensed_seats": NULL,
        "discount": NULL,
        "days_to_renewal": 0,  # D2 ends on the as-of day
        "renewal_booked": 0,  # D2's expansion is dated 04-01, after the as-of day
        "tenure_days": 303,  # D3 started 2024-06-01: 214 days to 2025-01-01, + 89
    },
}
