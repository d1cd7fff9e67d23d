"""Rendering pages: one Jinja2 environment, the layout's context, number and date formats."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from tenure.accounts.words import key_words
from tenure.jobs.words import step_lines, step_words
from tenure.model import CtaOutcome
from tenure.playbooks.wording import (
    evidence_text,
    fact_label,
    outcome_text,
    why_text,
    without_commands,
)
from tenure.portfolio.freshness import freshness
from tenure.portfolio.pages import PAGES, current_page, navigation, pages_for
from tenure.portfolio.risk_story import actionable_reasons
from tenure.risk.figures import risk_window
from tenure.risk.reasons import reason_text
from tenure.success.lifecycle_variants import stage_label
from tenure.words import chance as story_percent

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def money(value: float | None, currency: str | None = None) -> str:
    """12345.6 → '12,346' with the currency code: ARR is shown whole, in its own currency."""
    if value is None:
        return "—"
    text = f"{value:,.0f}"
    return f"{text} {currency}" if currency else text


def short_date(value: date | datetime | None) -> str:
    """A day, or a time to the minute in UTC kept on one line (a table column broke
    '2026-12-07 07:07 UTC' after the day on every row of the Outbox and Daily runs).

    >>> short_date(datetime(2026, 12, 7, 7, 7, 30)), short_date(date(2026, 12, 7))
    (Markup('<span class="nowrap">2026-12-07 07:07 UTC</span>'), '2026-12-07')
    """
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return Markup(f'<span class="nowrap">{value:%Y-%m-%d %H:%M} UTC</span>')
    return value.isoformat()


def page_url(request: Request) -> Callable[[int], str]:
    """The request's address with another ``page`` (every other parameter kept, repeated ones
    too: a draft rule's conditions)."""
    return lambda page: str(request.url.include_query_params(page=page))


def query_with(params: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters changed (None removes one)."""
    merged = {**params, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")})


def period_words(period: str) -> str:
    """A KPI period as a manager names it: a calendar quarter as ``2026 Q3``, else its two days.

    >>> period_words("2026-07-01..2026-09-30"), period_words("2026-07-15..2026-09-30")
    ('2026 Q3', '2026-07-15 – 2026-09-30')
    """
    start_text, _, end_text = period.partition("..")
    try:
        start, end = date.fromisoformat(start_text), date.fromisoformat(end_text)
    except ValueError:
        return period
    quarter = (start.month - 1) // 3 + 1
    next_start = date(start.year + (quarter == 4), (quarter % 4) * 3 + 1, 1)
    if start.day == 1 and start.month % 3 == 1 and (next_start - end).days == 1:
        return f"{start.year} Q{quarter}"
    return f"{start} – {end}"


DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def whole_dates(text: str | None) -> Markup:
    """Text with each day in it kept on one line (a browser breaks '2027-01-18' after a hyphen
    when a narrow column wraps the sentence around it).

    >>> str(whole_dates("Renewal on 2027-01-18 <b>"))
    'Renewal on <span class="nowrap">2027-01-18</span> &lt;b&gt;'
    """
    escaped = str(escape(text or ""))
    return Markup(DAY.sub(lambda m: f'<span class="nowrap">{m.group(0)}</span>', escaped))


def same_site(target: str, default: str) -> str:
    """A redirect target from a form: a path on this site, else ``default``."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


templates.env.filters["money"] = money
templates.env.filters["date"] = short_date
templates.env.filters["whole_dates"] = whole_dates
templates.env.filters["stage_label"] = stage_label
templates.env.filters["period"] = period_words
templates.env.globals["query_with"] = query_with
templates.env.globals["reason_text"] = reason_text
templates.env.globals["why_text"] = why_text
templates.env.globals["story_percent"] = story_percent
templates.env.filters["actionable_reasons"] = actionable_reasons
# How a call to action can end, in words: (value the forms send, label).
templates.env.globals["cta_outcomes"] = [(o.value, outcome_text(o.value)) for o in CtaOutcome]
templates.env.filters["without_commands"] = without_commands
templates.env.filters["fact_label"] = fact_label
templates.env.globals["risk_window"] = risk_window
templates.env.filters["key_words"] = key_words
templates.env.filters["evidence_text"] = evidence_text
templates.env.filters["step_words"] = step_words
templates.env.globals["step_lines"] = step_lines


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    db: Session | None = None,
    json_url: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A page in the layout: navigation for the user's role, CSRF token, data freshness."""
    user = getattr(request.state, "user", None)
    store = getattr(request.app.state, "event_store", None)
    base = {
        "user": user,
        "csrf_token": getattr(request.state, "csrf", ""),
        "nav": navigation(user.role) if user else [],
        "nav_pages": pages_for(user.role) if user else [],
        "nav_current": current_page(request.url.path),
        "all_pages": PAGES,
        "json_url": json_url,
        "freshness": freshness(db, store) if db is not None else None,
        "path": request.url.path,
    }
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def error_page(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    titles = {
        401: "Sign-in needed",
        403: "Not allowed",
        404: "Not found",
        422: "Invalid request",
        429: "Too many attempts",
    }
    # A service's message may suggest a CLI command (for the CLI's reader): pages leave it out.
    message = without_commands(message)
    response = render(
        request,
        "error.html",
        {"status": status, "title": titles.get(status, "Something went wrong"), "message": message},
        status_code=status,
    )
    if headers:
        response.headers.update(headers)
    return response
