"""No button a user may not use (issue 19.2): every console page walked as a viewer and as a CSM
who owns none of the book's open work, every form on it submitted as it stands, and none
answered "Not allowed". A viewer changes nothing, so the only forms a viewer sees are the ones
that change nothing but their own session and saved views."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from tenure.accounts.growth_schemas import OpportunityOpen
from tenure.accounts.opportunities import open_opportunity
from tenure.auth.permissions import Actor
from tenure.model import Contact, EngagementMessage, OpportunityKind, SurveyKind
from tenure.playbooks.surveys import create_campaign
from tenure.success import engagement_service
from tenure.success.schemas import MessageCreate
from tests import factories as f
from tests.web.factories import console_pages, csrf_of, sign_in
from tests.web.fixtures import Console, console_fixture  # noqa: F401  (the fixture)
from tests.web.test_message_pages import DRAFT
from tests.web.test_plain_words import QUERIES

# What a viewer may still do: sign out, keep a view of the portfolio for themselves.
VIEWER_MAY = ("/logout", "/logout/everywhere", "/portfolio/views")
# Pages left out of the walk: sign-in, API docs and the customer's survey page are not the
# console's; the CSV exports are files.
NOT_WALKED = ("/", "/login", "/api/docs", "/s/{token}", "/healthz", "/readyz", "/metrics")
# What a form's empty required field gets, so a refusal is not hidden behind "field required".
FILLED = {"number": "1", "date": "", "email": "x@example.com"}


@dataclass
class Form:
    page: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[str] = field(default_factory=list)


class FormReader(HTMLParser):
    """The POST forms of a page as a browser would submit them: each field's value as it
    stands (the first option of a select, checked boxes only), an empty required field
    filled in, and htmx's hx-post buttons as forms of their own."""

    def __init__(self, page: str, today: str) -> None:
        super().__init__()
        self.page, self.today = page, today
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: str | None = None
        self.button = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self.form = Form(self.page, a.get("action") or self.page)
            self.forms.append(self.form)
        elif "hx-post" in a:
            self.forms.append(Form(self.page, a["hx-post"], buttons=[a.get("name", tag)]))
        if self.form is None:
            return
        name = a.get("name", "")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            value = a.get("value", "")
            if not value and "required" in a:
                kind = a.get("type", "text")
                value = self.today if kind == "date" else FILLED.get(kind, "Filled in")
            self.form.fields.setdefault(name, value)
        elif tag == "textarea" and name:
            self.form.fields.setdefault(name, "Filled in" if "required" in a else "")
        elif tag == "select" and name:
            self.select = name
        elif tag == "option" and self.select and "disabled" not in a:
            # The first option, unless another one is selected.
            if self.select not in self.form.fields or "selected" in a:
                self.form.fields[self.select] = a.get("value", "")
        elif tag == "button" and a.get("type", "submit") == "submit":
            self.button = True
            self.form.buttons.append("")

    def handle_data(self, data: str) -> None:
        if self.button and self.form is not None:
            self.form.buttons[-1] += data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "button":
            self.button = False


def _seed(console: Console) -> dict[str, str]:
    """Open work on Acme (Cleo's): a call to action, a draft message, a deal, a campaign."""
    book = console.book
    with console.session() as session:
        cta = f.cta(session, book.acme, owner=book.cleo, title="NPS detractor", today=book.today)
        jane = session.scalar(sa.select(Contact).where(Contact.external_id == "acme-jane"))
        assert jane is not None
        jane.email = "jane@acme.example"
        cleo = Actor(session.merge(book.cleo), "web")
        engagement_service.create_draft(
            session,
            MessageCreate.model_validate(
                {
                    "account": "Acme",
                    "moment": "risk_outreach",
                    "goal": "Seats back in use",
                    "check": {
                        "metric": "license_utilization",
                        "comparison": "at_least",
                        "target": 0.6,
                    },
                }
            ),
            cleo,
            book.today,
        )
        deal = open_opportunity(
            session,
            book.acme.id,
            OpportunityOpen(name="Acme upsell", kind=OpportunityKind.expansion, amount=20_000),
            cleo,
            book.today,
        )
        campaign = create_campaign(
            session, Actor(session.merge(book.max), "web"), name="Champions", kind=SurveyKind.nps
        )
        session.commit()
        return {
            "{account_id}": str(book.acme.id),
            "{cta_id}": str(cta.id),
            "{opportunity_id}": str(deal.id),
            "{campaign_id}": str(campaign.id),
        }


def _walk(console: Console, email: str, ids: dict[str, str]) -> list[Form]:
    """Every page the user may open, and the POST forms on each."""
    console.client.cookies.clear()
    sign_in(console.client, email)
    forms = []
    for template in console_pages(console.client.app):  # type: ignore[arg-type]
        if template in NOT_WALKED or template.endswith(".csv") or "{token}" in template:
            continue
        path = template
        for name, value in ids.items():
            path = path.replace(name, value)
        assert "{" not in path, f"no id for {template}"
        response = console.client.get(path + QUERIES.get(path, ""))
        if response.status_code == 403:
            continue
        assert response.status_code == 200, (email, path, response.status_code)
        reader = FormReader(path, str(console.book.today))
        reader.feed(response.text)
        # A form with no button (a table's wrapper, a read-only editor) offers nothing.
        forms += [form for form in reader.forms if form.buttons]
    return forms


def _refused(console: Console, forms: list[Form]) -> list[str]:
    """The forms the server answers with 403 when submitted as they stand."""
    refused = []
    for form in forms:
        if form.action.startswith("/logout"):
            continue
        answer = console.client.post(form.action, data=form.fields, follow_redirects=False)
        if answer.status_code == 403:
            refused.append(f"{form.page}: {form.buttons} → POST {form.action}")
    return refused


def test_a_viewer_sees_no_button_that_changes_anything(console: Console) -> None:
    ids = _seed(console)
    forms = _walk(console, "vic@example.com", ids)
    assert any(f.action == "/logout" for f in forms)  # the walk reads forms at all
    shown = [
        f"{f.page}: {f.buttons} → POST {f.action}" for f in forms if f.action not in VIEWER_MAY
    ]
    assert not shown, "\n".join(shown)
    assert not _refused(console, forms)


@pytest.mark.parametrize("email", ["sam@example.com", "cleo@example.com", "max@example.com"])
def test_no_one_sees_a_button_the_server_refuses_them(console: Console, email: str) -> None:
    """Sam owns none of Acme's work, Cleo owns it, Max manages her: each one's buttons, on
    every page they may open, are ones the server lets them use."""
    ids = _seed(console)
    forms = _walk(console, email, ids)
    assert not (refused := _refused(console, forms)), "\n".join(refused)


def test_a_viewer_may_not_draft_a_message(console: Console) -> None:
    """The Messages page hides the form from a viewer; the server refuses the post anyway."""
    _seed(console)
    sign_in(console.client, "vic@example.com")
    page = console.client.get("/messages")
    assert "Draft it" not in page.text and "Approve and send" not in page.text
    form = {"csrf_token": csrf_of(page.text), **DRAFT}
    assert console.client.post("/messages", data=form).status_code == 403
    with console.session() as session:
        assert session.scalar(sa.select(sa.func.count(EngagementMessage.id))) == 1
