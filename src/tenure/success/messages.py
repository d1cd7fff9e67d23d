"""Engagement messages built on Lincoln Murphy's communication model and BEAST.

[pub] The customer-engagement communication model simplifies Shannon–Weaver into six pieces, the
first being the **Goal**: "every customer interaction should have an associated goal" — so a message
without a goal is refused here. **BEAST** is Murphy's framework for the *message* piece; its letters
are not in our sources and are not expanded here.

[default] The other pieces: audience (the receiver, at what level), trigger (why now), message,
channel, and feedback (what would show the goal was met); the draft also names its sender, so it
reads as sender → message → channel → receiver → feedback. Each template carries the goal (in the
draft's metadata), the customer's outcome, evidence from their data, one next step and a way to
reply.
Templates are editable jinja2 files: the shipped ones live in ``success/templates/messages/``, and
a directory passed as ``template_dir`` overrides them file by file.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from pydantic import BaseModel

from tenure.errors import InvalidInput


class Moment(enum.StrEnum):
    milestone_reached = "milestone_reached"
    advocacy_ask = "advocacy_ask"
    renewal_prep = "renewal_prep"
    risk_outreach = "risk_outreach"


class Channel(enum.StrEnum):
    email = "email"
    in_app = "in_app"
    call = "call"
    meeting = "meeting"


DEFAULT_NEXT_STEP = {
    Moment.milestone_reached: "a 20-minute call to plan the next milestone",
    Moment.advocacy_ask: "a short case study or a reference call — whichever suits you",
    Moment.renewal_prep: "a renewal review meeting in the next two weeks",
    Moment.risk_outreach: "a 30-minute call this week to remove what is in the way",
}
DEFAULT_FEEDBACK = {
    Moment.milestone_reached: "a reply or a booked call within 14 days",
    Moment.advocacy_ask: "a yes to the case study or the reference within 21 days",
    Moment.renewal_prep: "a renewal review held before the notice date",
    Moment.risk_outreach: "a reply within 7 days and the risk signal cleared within 60",
}


@dataclass(frozen=True)
class Party:
    name: str | None
    email: str | None = None
    level: str | None = None


@dataclass(frozen=True)
class DraftRequest:
    moment: Moment
    goal: str | None
    account: dict[str, Any]
    sender: Party
    receiver: Party
    channel: Channel = Channel.email
    trigger: str | None = None
    outcome_text: str | None = None
    evidence: list[str] = field(default_factory=list)
    next_step: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class MessageDraft(BaseModel):
    """One message with every piece of the communication model."""

    goal: str
    sender: str
    audience: str
    trigger: str
    channel: Channel
    moment: Moment
    subject: str
    body: str
    feedback: str
    message_framework: str = "BEAST (Lincoln Murphy)"


def _environment(template_dir: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        if not template_dir.is_dir():
            raise InvalidInput(f"{template_dir}: message template directory not found")
        loaders.append(jinja2.FileSystemLoader(str(template_dir)))
    loaders.append(jinja2.PackageLoader("tenure.success", "templates/messages"))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )


def draft_message(request: DraftRequest, template_dir: Path | None = None) -> MessageDraft:
    """Fill the moment's template from account data; refuse a message without a goal."""
    if not request.goal or not request.goal.strip():
        raise InvalidInput(
            f"message for {request.account.get('name', 'the account')!r} refused: every customer "
            "interaction needs a goal — pass one (e.g. --goal 'book the renewal review')"
        )
    context = {
        "account": request.account,
        "sender": request.sender,
        "receiver": request.receiver,
        "outcome": {"text": request.outcome_text} if request.outcome_text else None,
        "evidence": request.evidence,
        "next_step": request.next_step or DEFAULT_NEXT_STEP[request.moment],
        "milestone": None,
        "nps": None,
        "renewal_on": None,
        **request.extra,
    }
    name = f"{request.moment.value}.j2"
    try:
        text = _environment(template_dir).get_template(name).render(**context)
    except jinja2.UndefinedError as error:
        raise InvalidInput(f"template {name}: {error.message}") from error
    except jinja2.TemplateSyntaxError as error:
        raise InvalidInput(f"template {name}, line {error.lineno}: {error.message}") from error
    first, _, rest = text.partition("\n")
    subject = first.removeprefix("Subject:").strip() if first.startswith("Subject:") else ""
    body = rest.lstrip("\n") if subject else text
    receiver = request.receiver
    audience = receiver.name or receiver.email or "unnamed contact"
    if receiver.level:
        audience += f" ({receiver.level})"
    return MessageDraft(
        goal=request.goal.strip(),
        sender=request.sender.name or request.sender.email or "unnamed sender",
        audience=audience,
        trigger=request.trigger or request.moment.value.replace("_", " "),
        channel=request.channel,
        moment=request.moment,
        subject=subject,
        body=body,
        feedback=DEFAULT_FEEDBACK[request.moment],
    )
