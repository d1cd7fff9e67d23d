"""The survey response page: ``GET /s/{token}`` shows the question, ``POST`` records the answer.

It needs no sign-in (the signed token is the credential); a tampered link answers 404, a second
answer 409, each with a page a person can read.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import IntegrityError

from tenure.errors import Conflict, TenureError
from tenure.model import SurveyCampaign
from tenure.playbooks import surveys
from tenure.playbooks.surveys import SCALES
from tenure.store.database import session_scope

router = APIRouter(include_in_schema=False)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title>
<style>body{{font:16px system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}}
.scale{{display:flex;gap:.4rem;flex-wrap:wrap}} .scale label{{border:1px solid #999;
border-radius:.3rem;padding:.5rem .8rem;cursor:pointer}} textarea{{width:100%;min-height:6rem}}
button{{margin-top:1rem;padding:.6rem 1.2rem}}</style></head><body>{body}</body></html>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(PAGE.format(title=escape(title), body=body), status_code=status)


def _error_page(error: TenureError) -> HTMLResponse:
    return _page("Survey", f"<h1>Sorry</h1><p>{escape(error.message)}</p>", error.status_code)


@router.get("/s/{token}", response_class=HTMLResponse)
def survey_form(token: str, request: Request) -> HTMLResponse:
    secret = request.app.state.settings.signing_key
    try:
        with session_scope(request.app.state.sessionmaker) as session:
            link = surveys.resolve(session, secret, token)
            campaign = session.get_one(SurveyCampaign, link.campaign_id)
            if link.responded_at is not None:
                return _page("Thank you", "<h1>Thank you</h1><p>You already answered.</p>")
            question, (low, high) = campaign.question, SCALES[campaign.kind]
    except TenureError as error:
        return _error_page(error)
    choices = "".join(
        f'<label><input type="radio" name="score" value="{n}" required> {n}</label>'
        for n in range(low, high + 1)
    )
    body = (
        f"<h1>{escape(question)}</h1><form method='post'>"
        f"<div class='scale'>{choices}</div>"
        "<p><label for='comment'>Anything you would like to add? (optional)</label></p>"
        "<textarea id='comment' name='comment' maxlength='5000'></textarea>"
        "<button type='submit'>Send</button></form>"
    )
    return _page("Survey", body)


@router.post("/s/{token}", response_class=HTMLResponse)
def survey_answer(
    token: str, request: Request, score: int = Form(...), comment: str | None = Form(None)
) -> HTMLResponse:
    secret = request.app.state.settings.signing_key
    try:
        with session_scope(request.app.state.sessionmaker) as session:
            surveys.answer(session, secret, token, score, comment)
    except TenureError as error:
        return _error_page(error)
    except IntegrityError:  # two answers at the same moment: the first one won
        return _error_page(Conflict("this survey was already answered"))
    return _page("Thank you", "<h1>Thank you</h1><p>Your answer was recorded.</p>")
