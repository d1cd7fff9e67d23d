"""Survey campaigns: audience, one signed link per contact, tampering and reuse refused."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.orm import Session

from tenure.auth.permissions import system_actor
from tenure.config import Settings
from tenure.errors import InvalidInput
from tenure.model import (
    Account,
    Contact,
    OutboxMessage,
    SurveyKind,
    SurveyLink,
    SurveyResponse,
    WebhookDelivery,
)
from tenure.playbooks import surveys, webhooks
from tenure.store.database import create_engine, session_factory, session_scope
from tenure.web.surveys import router
from tests import factories as f

with warnings.catch_warnings():
    # Starlette warns that its TestClient should move to httpx2; httpx works as before.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SECRET = "surveys-test-secret-of-at-least-32-chars"
NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)


def setup(engine: sa.Engine) -> None:
    with session_scope(session_factory(engine)) as session:
        acme = f.account(session, external_id="acme", segment="enterprise")
        small = f.account(session, external_id="small", segment="smb")
        f.contact(session, acme, external_id="ann", email="ann@acme.example", roles=["champion"])
        f.contact(session, acme, external_id="al", email="al@acme.example", roles=["end_user"])
        f.contact(
            session,
            acme,
            external_id="gone",
            email="g@acme.example",
            roles=["champion"],
            left_on=date(2026, 1, 1),
        )
        f.contact(session, small, external_id="sam", email="sam@small.example", roles=["champion"])
        webhooks.create_endpoint(session, "https://hooks.example.com/x", ["survey.responded"])
        surveys.create_campaign(
            session,
            system_actor(session, "test"),
            name="q1",
            kind=SurveyKind.nps,
            segments=["enterprise"],
            roles=["champion"],
            min_interval_days=90,
        )


def send(engine: sa.Engine, name: str, now: datetime) -> surveys.SendSummary:
    with session_scope(session_factory(engine)) as session:
        return surveys.send_campaign(
            session,
            system_actor(session, "test"),
            name,
            secret_key=SECRET,
            public_url="http://tenure.example",
            sender="t@example.com",
            now=now,
        )


def client(database_url: str) -> TestClient:
    app = FastAPI()
    app.include_router(router)
    app.state.settings = Settings(secret_key=SECRET)
    app.state.sessionmaker = session_factory(create_engine(database_url))
    return TestClient(app)


def test_one_link_per_audience_contact_one_answer_and_tampering_refused(database_url: str) -> None:
    engine = create_engine(database_url)
    setup(engine)
    summary = send(engine, "q1", NOW)
    assert summary.sent == 1  # only Ann: enterprise, champion, still at the customer
    with engine.connect() as conn:
        body = conn.execute(sa.select(OutboxMessage.body)).scalar_one()
    token = re.search(r"http://tenure\.example/s/(\S+)", body).group(1)  # type: ignore[union-attr]
    web = client(database_url)
    assert "recommend" in web.get(f"/s/{token}").text
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert web.get(f"/s/{tampered}").status_code == 404
    assert web.post(f"/s/{tampered}", data={"score": "10"}).status_code == 404
    assert web.post(f"/s/{token}", data={"score": "11"}).status_code == 422  # out of scale
    answered = web.post(f"/s/{token}", data={"score": "3", "comment": "Too slow"})
    assert answered.status_code == 200 and "recorded" in answered.text
    reuse = web.post(f"/s/{token}", data={"score": "10"})
    assert reuse.status_code == 409 and "already answered" in reuse.text
    with engine.connect() as conn:
        rows = conn.execute(sa.select(SurveyResponse.score, SurveyResponse.comment)).all()
        events = conn.execute(sa.select(WebhookDelivery.event_type)).scalars().all()
    assert [tuple(r) for r in rows] == [(3, "Too slow")]
    assert events == ["survey.responded"]
    engine.dispose()


def test_an_opted_out_contact_gets_no_survey(database_url: str) -> None:
    engine = create_engine(database_url)
    setup(engine)
    with session_scope(session_factory(engine)) as session:
        acme = session.scalar(sa.select(Account).where(Account.external_id == "acme"))
        assert acme is not None
        # Ann opted out in the CRM; Olive is an enterprise champion who did too.
        session.execute(
            sa.update(Contact).where(Contact.external_id == "ann").values(email_opt_out=True)
        )
        f.contact(
            session,
            acme,
            external_id="olive",
            email="olive@acme.example",
            roles=["champion"],
            email_opt_out=True,
        )
        surveys.create_campaign(
            session, system_actor(session, "test"), name="all", kind=SurveyKind.csat
        )
    assert send(engine, "q1", NOW).sent == 0  # q1's audience is Ann alone
    assert send(engine, "all", NOW).sent == 2  # everyone current but the two who opted out
    with engine.connect() as conn:
        recipients = set(conn.execute(sa.select(OutboxMessage.recipient)).scalars())
    assert recipients == {"al@acme.example", "sam@small.example"}
    engine.dispose()


def test_minimum_interval_between_surveys_of_a_contact(database_url: str) -> None:
    engine = create_engine(database_url)
    setup(engine)
    send(engine, "q1", NOW)
    with session_scope(session_factory(engine)) as session:
        surveys.create_campaign(
            session,
            system_actor(session, "test"),
            name="q2",
            kind=SurveyKind.csat,
            min_interval_days=90,
        )
    early = send(engine, "q2", NOW + timedelta(days=30))
    assert (early.sent, early.skipped_recently_surveyed) == (2, 1)  # Al and Sam; Ann too recent
    again = send(engine, "q2", NOW + timedelta(days=91))
    assert (again.sent, again.skipped_already_linked) == (1, 2)  # now Ann
    # An answer recorded another way (an import) counts as being surveyed too.
    with session_scope(session_factory(engine)) as session:
        sam = session.scalar(sa.select(Contact).where(Contact.external_id == "sam"))
        assert sam is not None
        f.nps(
            session,
            session.get_one(Account, sam.account_id),
            score=8,
            on=date(2026, 8, 1),
            contact_row=sam,
        )
        surveys.create_campaign(
            session,
            system_actor(session, "test"),
            name="q3",
            kind=SurveyKind.nps,
            roles=["champion"],
        )
    # On 2026-09-17 Ann's last link is 109 days old (sent); Sam answered 47 days ago (skipped).
    late = send(engine, "q3", NOW + timedelta(days=200))
    assert (late.sent, late.skipped_recently_surveyed) == (1, 1)
    engine.dispose()


def test_nps_of_published_definition() -> None:
    # 3 promoters, 2 passives, 5 detractors of 10: 30% − 50% = −20.
    row = surveys.nps_of([10, 9, 9, 8, 7, 6, 5, 3, 0, 1])
    assert (row.promoters, row.passives, row.detractors, row.nps) == (3, 2, 5, -20.0)


def test_two_answers_at_once_keep_the_first(database_url: str) -> None:
    engine = create_engine(database_url)
    setup(engine)
    send(engine, "q1", NOW)
    with session_scope(session_factory(engine)) as session:
        link = session.scalars(sa.select(surveys.SurveyLink)).one()
        token = surveys.token_for(SECRET, link)
        # A concurrent answer committed its response before this link was marked answered.
        session.add(
            SurveyResponse(
                external_id=f"survey-link-{link.id}",
                account_id=link.account_id,
                contact_id=link.contact_id,
                kind=SurveyKind.nps,
                score=9,
                responded_at=NOW,
            )
        )
    late = client(database_url).post(f"/s/{token}", data={"score": "2"})
    assert late.status_code == 409 and "already answered" in late.text
    with engine.connect() as conn:
        assert conn.execute(sa.select(SurveyResponse.score)).scalars().all() == [9]
    engine.dispose()


def test_a_campaigns_answers_come_a_page_at_a_time_and_its_score_counts_them_all(
    session: Session,
) -> None:
    """Five people of Acme answered the q1 NPS (10, 9, 9, 6, 3; two on the same day):
    pages of two give every answer once, latest first (on the same day the later answer
    first), and every page says NPS 100 × (3 promoters - 2 detractors) / 5 = 20 over all
    five (a campaign of thousands of answers listed them all on one page)."""
    acme = f.account(session, external_id="acme", name="Acme")
    campaign = surveys.create_campaign(
        session, system_actor(session, "test"), name="q1", kind=SurveyKind.nps
    )
    days = (1, 2, 3, 3, 4)
    for n, (score, day) in enumerate(zip((10, 9, 9, 6, 3), days, strict=True)):
        who = f.contact(session, acme, external_id=f"c{n}")
        answer = f.nps(session, acme, score=score, on=date(2026, 3, day), contact_row=who)
        link = SurveyLink(campaign_id=campaign.id, contact_id=who.id, account_id=acme.id)
        session.add(link)
        link.nonce, link.sent_at, link.response_id = f"n{n}", NOW, answer.id
    session.flush()

    pages, cursor = [], None
    while True:
        view = surveys.campaign_view(session, campaign.id, limit=2, cursor=cursor)
        assert (view.campaign.answered, view.nps and view.nps.nps) == (5, 20.0)
        pages.append([a.contact_name for a in view.answers])
        if (cursor := view.next_cursor) is None:
            break
    assert pages == [["c4", "c3"], ["c2", "c1"], ["c0"]]
    whole = surveys.campaign_view(session, campaign.id)
    assert [a.contact_name for a in whole.answers] == ["c4", "c3", "c2", "c1", "c0"]
    assert whole.next_cursor is None
    with pytest.raises(InvalidInput, match="not a cursor"):
        surveys.campaign_view(session, campaign.id, cursor="bm90IGEgY3Vyc29y")
