"""Every console page in a CS manager's words (issue 19.1, 19.4): no page sends anyone to the
command line ("run `tenure …`") and no reason reads as rule syntax (``days_to_renewal = 78
(<= 120)``), for a CSM, a manager and an admin; the rule's own text only behind an admin's
details toggle."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tenure.auth.permissions import Actor
from tenure.model import Cta, CtaPriority, CtaType, DailyRun, Milestone, SuccessPlan, Ticket
from tenure.model.base import utcnow
from tenure.success.outcome import (
    AppropriateExperience,
    DesiredOutcomeVersion,
    RequiredOutcome,
    TouchModel,
)
from tenure.success.outcome_service import set_desired_outcome
from tenure.success.rules import Rule
from tests.web.factories import console_pages, sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)

# "tenure " then a word of the CLI: `tenure run daily`, tenure import, tenure model fit …
CLI_HINT = re.compile(
    r"\btenure (run|import|model|health|outcome|churn|serve|rules?|milestones|metrics|users|"
    r"connect|sources|demo|simulate|backup|refresh|ctas|surveys?|ebr|scorecard|playbooks?)\b",
    re.IGNORECASE,
)
# A reason as the rule engine writes it: `fact = value (op threshold)`, or `fact op value`.
RULE_SYNTAX = re.compile(
    r"\((<=|>=|==|!=|<|>) [^)]*\)|[a-z]+_[a-z_]+ (<=|>=|==|!=|≥|≤) |[a-z_.]+ = \S+ (meets|fails) "
)
# Pages that need a query to show anything: the preview of the renewal rule, fired on Acme.
QUERIES = {
    "/rules/preview": "?rule=renewal_preparation",
    "/today": "?scope=all",
    # The rule builder with a rule previewed beside it.
    "/rules/new": "?name=Soon&type=renewal&fact=days_to_renewal&comparison=at+most&value=60",
    # The month of Acme's renewal (30 days ahead) opened on the Renewals page.
    "/renewals/month": f"?month={utcnow().date() + timedelta(days=30):%Y-%m}",
}
SKIPPED = (
    "no churn model fitted yet; run `tenure model fit` first; until then churn risk is not "
    "scored and no risk.raised is sent"
)
EVIDENCE = "usage.feature_breadth = 0.4 meets usage.feature_breadth ≥ 0.3 (metrics of 2026-08-09)"
# What the demo's daily run counted, step by step, as the run stores it.
DEMO_COUNTS = {
    "health": {"scored": 264, "green": 170, "red": 22, "yellow": 72, "band_changes": 29},
    "lifecycle": {"model": "laer", "land": 11, "adopt": 184, "renew": 61, "no_contract": 40},
    "message_goals": {"checked": 45, "met": 11, "not_met": 34},
    "rules": {"created": 103, "suppressed": 5},
    "follow_ups": {"woken": 0, "escalated": 0, "digests": 8},
}
# A key as code spells it: days_to_renewal, commercial_buyer, low_touch.
ENUM_KEY = re.compile(r"\b[a-z]+_[a-z_]+\b")
RAW_REASON = (
    "days_to_renewal = 78 (<= 120); days_to_renewal = 78 (>= 0); health_band = red (== red)"
)
CHECKS = [
    {"fact": "days_to_renewal", "op": "<=", "threshold": 120, "value": 78, "passed": True},
    {"fact": "days_to_renewal", "op": ">=", "threshold": 0, "value": 78, "passed": True},
    {"fact": "health_band", "op": "==", "threshold": "red", "value": "red", "passed": True},
]


def _console_pages(console: Console) -> list[str]:
    """Every GET page of the console as the app mounts it, so a page added later is read too
    (a hand-kept list missed the Lifecycle, Product ids, Scorecard, Messages and Connections
    pages)."""
    skipped = ("/", "/login", "/api/docs", "/s/{token}", "/healthz", "/readyz", "/metrics")
    app = console.client.app
    return [p for p in console_pages(app) if p not in skipped]  # type: ignore[arg-type]


def _text(page: str) -> str:
    """What a reader sees: the page without scripts, styles and tags, entities decoded; an
    admin's folded rule text (<details class="rule-text">) left out."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r'<details class="rule-text">.*?</details>', " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_no_page_sends_anyone_to_the_cli_or_shows_rule_syntax(console: Console) -> None:
    book = console.book
    with console.session() as session:
        cta = Cta(
            rule_key="renewal_risk",
            rule_version=1,
            account_id=book.acme.id,
            kind=CtaType.risk,
            priority=CtaPriority.high,
            title="Renewal at risk",
            owner_id=book.cleo.id,
            opened_on=book.today,
            due_on=book.today + timedelta(days=7),
            last_fired_on=book.today,
            reason=RAW_REASON,
            facts=CHECKS,
            facts_signature="test",
            arr_at_risk=120_000,
        )
        session.add(cta)
        # A daily run as the risk step records it with no model fitted (jobs/daily.py).
        session.add(
            DailyRun(
                as_of=book.today,
                status="succeeded",
                started_at=utcnow(),
                finished_at=utcnow(),
                steps=[{"name": "risk", "error": None, "skipped": SKIPPED}],
                counts=DEMO_COUNTS,
                errors=[],
            )
        )
        # A Desired Outcome whose target is a rule: its check reads `x = 0.2 fail x < 0.1`.
        target = Rule(field="outcome.rep_churn", op="lt", value=0.1)
        set_desired_outcome(
            session,
            Actor(session.merge(book.ada), "web"),
            book.acme.external_id,
            DesiredOutcomeVersion(
                effective_from=book.today,
                required_outcome=RequiredOutcome(text="Cut churn of new reps", target=target),
                appropriate_experience=AppropriateExperience(touch_model=TouchModel.low_touch),
            ),
        )
        # Fields connectors and mappings write, and CRM keys as the simulated CRM stores them.
        acme = session.merge(book.acme)
        acme.custom = {
            **(acme.custom or {}),
            "deleted_in_salesforce_on": "2026-12-03",
            "delinquent": False,
            "lifecycle_stage": "marketing_qualified_lead",
            "account_type": "Customer - Direct",
        }
        acme.region = "north_america"
        # A milestone a rule saw reached (its evidence as the engine writes it), a ticket's
        # category as the help desk stores it.
        plan = SuccessPlan(account_id=acme.id, segment="Enterprise", started_on=book.today)
        session.add(plan)
        session.flush()
        session.add(
            Milestone(
                plan_id=plan.id,
                account_id=acme.id,
                key="first_value",
                name="First value reached",
                type="outcome",
                owner="customer",
                due_on=book.today,
                reached_on=book.today,
                reached_by="data",
                evidence=EVIDENCE,
            )
        )
        # A milestone of ours due long ago and never marked.
        session.add(
            Milestone(
                plan_id=plan.id,
                account_id=acme.id,
                key="kickoff",
                name="Kickoff held",
                type="success",
                owner="vendor",
                due_on=date(2020, 1, 6),
            )
        )
        session.execute(
            sa.update(Ticket).where(Ticket.account_id == acme.id).values(category="how_to")
        )
        session.merge(book.globex).segment = "mid_market"
        session.commit()
    ids = {
        "{account_id}": str(book.acme.id),
        "{cta_id}": str(cta.id),
        "{opportunity_id}": None,  # the book has no deal; the pipeline page lists none either
        "{token}": None,  # an upload's preview: tests/web/test_screens.py reads it
        "{campaign_id}": None,  # the book has no campaign; tests/web/test_screens.py makes one
    }
    paths = _console_pages(console)
    assert {
        "/today",
        "/accounts/{account_id}",
        "/accounts/{account_id}/ebr",
        "/admin",
        "/imports",
        "/surveys",
        "/accounts/{account_id}/success-plan",
        "/rules/new",
    } <= set(paths)
    seen = 0
    for email in ("cleo@example.com", "max@example.com", "ada@example.com"):
        console.client.cookies.clear()
        sign_in(console.client, email)
        for template in paths:
            path = template
            for name, value in ids.items():
                if name in path:
                    path = path.replace(name, value) if value else ""
            if not path or path.endswith(".csv") or "{" in path:
                assert "{" not in path, f"no id for {template}"
                continue
            response = console.client.get(path + QUERIES.get(path, ""))
            if response.status_code == 403:  # a page the role may not open
                continue
            assert response.status_code == 200, (email, path, response.status_code)
            text = _text(response.text)
            assert not CLI_HINT.search(text), (email, path, CLI_HINT.search(text))
            m = RULE_SYNTAX.search(text)
            assert not m, (email, path, m and text[m.start() - 200 : m.end() + 50])
            if email != "ada@example.com":  # enum keys and fact names: an admin's details only
                keys = ENUM_KEY.findall(text)
                assert not keys, (email, path, keys)
                # Limits in words ('at least 30 days'), never the symbols a rule is written in.
                symbols = re.findall(r".{0,60}[≥≤].{0,20}", text)
                assert not symbols, (email, path, symbols)
            seen += 1
        account = console.client.get(f"/accounts/{book.acme.id}").text
        assert "Deleted in Salesforce on 2026-12-03" in account
        assert "Feature breadth 40 % (at least 30 %), usage of 2026-08-09" in account
        assert "· How to" in account
        assert "<td>Outcome</td><td>The customer</td>" in account  # the plan's milestone rows
        plan_page = console.client.get(f"/accounts/{book.acme.id}/success-plan").text
        # Type and owner in words on the plan page too (it showed 'success' and 'us').
        assert "<td>Success</td><td>Our team</td>" in plan_page
        assert "Lifecycle stage in the CRM: <span" in account and "North America" in account
        assert "Cut churn of new reps" in account and "low touch experience" in account
        # The target's check ('outcome.rep_churn unknown (no data)') is an admin's detail.
        assert ("outcome.rep_churn" in _text(account)) is False
        assert ("outcome.rep_churn" in account) is (email == "ada@example.com")
        runs = console.client.get("/daily-runs").text
        assert "no churn model fitted yet; until then churn risk is not scored" in runs
        assert "Health scores</strong>: 264 scored, 170 green, 72 yellow, 22 red, 29 chan" in runs
        assert "Land 11, Adopt 184, Renew 61, no active contract 40" in runs
        assert "Calls to action</strong>: 103 opened, 5 held back (cap or cool-down)" in runs
        today = console.client.get("/today?scope=all").text
        assert "Renewal in 78 days (between 0 and 120 days); Health band red" in today
        # The rule's own text: an admin may unfold it; nobody else gets it.
        assert ("days_to_renewal = 78 (&lt;= 120)" in today) is (email == "ada@example.com")
    assert seen >= 30, seen
    # An admin's own pages: the scorecard's measures and the objects a connector reads in words.
    admin = console.client.get("/admin").text
    assert "<td>License utilization</td>" in admin and "<code>license_utilization" not in admin
    connections = console.client.get("/admin/connections").text
    assert "Satisfaction ratings" in connections and "> satisfaction_ratings" not in connections


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        (CHECKS, "Renewal in 78 days (between 0 and 120 days); Health band red"),
        (
            [{"fact": "churn_probability", "op": ">=", "threshold": 0.4, "value": 0.534}],
            "Churn risk 53 % (at least 40 %)",
        ),
        (
            [{"fact": "champion_left_days_ago", "op": "lte", "threshold": 30, "value": 12}],
            "Champion left 12 days ago (at most 30 days ago)",
        ),
        (
            [{"fact": "in_onboarding", "op": "==", "threshold": True, "value": True}],
            "In onboarding",
        ),
        (
            [
                {
                    "fact": "days_to_renewal",
                    "op": "<=",
                    "threshold": 120,
                    "value": 9,
                    "passed": False,
                }
            ],
            "",
        ),
    ],
)
def test_why_text_reads_as_words(checks: list[dict[str, object]], expected: str) -> None:
    from tenure.playbooks.wording import why_text

    assert why_text(checks) == expected


def test_a_service_error_reaches_a_page_without_its_cli_command(console: Console) -> None:
    """Services word their refusals for the CLI's reader too ('run `tenure model fit` first');
    the console's error page leaves the command out, the API keeps the message whole."""
    from tenure.errors import NotFound

    message = "no churn model fitted yet; run `tenure model fit` first; churn risk is not scored"

    def refuse() -> None:
        raise NotFound(message)

    console.client.app.add_api_route("/test-refusal", refuse)  # type: ignore[attr-defined]
    console.client.app.add_api_route("/api/v1/test-refusal", refuse)  # type: ignore[attr-defined]
    sign_in(console.client, "cleo@example.com")
    page = console.client.get("/test-refusal")
    assert page.status_code == 404
    assert "no churn model fitted yet; churn risk is not scored" in _text(page.text)
    assert not CLI_HINT.search(_text(page.text))
    assert console.client.get("/api/v1/test-refusal").json()["message"] == message


def test_milestone_statuses_read_as_words() -> None:
    """Every milestone status as the account page and the success plan show it: 'unknown'
    (due before Tenure watched the account, never marked) read as if no one knew anything."""
    from types import SimpleNamespace

    from tenure.success.milestones import MilestoneStatus
    from tenure.web.render import templates

    macros = templates.env.get_template("_macros.html").module
    shown = {
        status: _text(
            str(
                macros.milestone_status(
                    SimpleNamespace(status=status, reached_on=None, reason="why")
                )
            )
        ).strip()
        for status in MilestoneStatus
    }
    assert shown == {
        MilestoneStatus.reached: "reached",
        MilestoneStatus.on_track: "on track",
        MilestoneStatus.behind: "behind",
        MilestoneStatus.stuck: "stuck",
        MilestoneStatus.unknown: "not recorded",
    }
