"""The command palette (Ctrl-K): pages, actions, owners and accounts matching what the user
types, typos forgiven.

A name containing the text ranks first (a prefix before a middle match); otherwise names are
matched word by word (:func:`word_match`, rapidfuzz's ratio per word, 0–100) and kept from
:data:`FUZZY_CUTOFF` up, so "qaurtz helth" finds Quartz Health Group and "renwals" Renewals.
Only what the reader may open is offered: pages and actions by role; an owner opens the
portfolio filtered to their accounts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from rapidfuzz import fuzz, process, utils
from sqlalchemy.orm import Session

from tenure.model import Account, User, UserRole
from tenure.portfolio.pages import ALL_ROLES, pages_for
from tenure.portfolio.schemas import PaletteEntry

# WRatio at or above which a fuzzy match is offered (a typo or two in a word scores 70–90;
# unrelated names of the same length score 30–55).
FUZZY_CUTOFF = 70.0
EXACT, PREFIX, CONTAINS = 200.0, 150.0, 120.0
# Names kept by the fast first cut before the word-by-word score.
SHORTLIST = 50
# Shorter text is matched by containment only: "sam" would fuzzily match every "… CSM".
FUZZY_MIN_LENGTH = 4
# Order of kinds on equal scores: what the reader most likely wants first.
KIND_ORDER = {"page": 0, "action": 1, "owner": 2, "account": 3}
MANAGERS = frozenset({UserRole.admin, UserRole.manager})
# Everyone who changes something: a viewer only reads.
EDITORS = ALL_ROLES - {UserRole.viewer}


@dataclass(frozen=True)
class Action:
    """Something to do, as the palette offers it: where it happens, and who may do it."""

    label: str
    url: str
    words: str = ""  # more words it answers to
    roles: frozenset[UserRole] = ALL_ROLES


ACTIONS = (
    Action("My calls to action", "/today#ctas", "cta todo tasks work inbox"),
    Action("Renewals in the next 90 days", "/renewals", "renew forecast quarter"),
    Action("Red accounts", "/portfolio?band=red", "health red bad"),
    Action("My accounts", "/portfolio?owner=me", "book mine"),
    Action("My team's accounts", "/portfolio?owner=team", "team book", MANAGERS),
    Action("Unassigned accounts", "/portfolio?owner=none", "no owner orphan", MANAGERS),
    Action("Reassign accounts", "/portfolio", "owner transfer move handover", MANAGERS),
    Action("Export the portfolio as CSV", "/portfolio.csv", "download excel csv"),
    Action("Confirm churn classes", "/churn-review", "churned lost classify", EDITORS),
    # Campaigns write to customers in the company's name (playbooks.surveys.check_surveyor).
    Action("Send a survey", "/surveys", "nps csat campaign", MANAGERS),
    Action("Preview a rule", "/rules", "playbook trigger cta rules"),
    Action(
        "Import a file", "/imports", "upload csv salesforce hubspot", frozenset({UserRole.admin})
    ),
    Action("Add a user", "/admin#users", "invite team member", frozenset({UserRole.admin})),
)


def word_match(text: str, name: str) -> float:
    """Each word typed against its best-matching word of the name, averaged (0–100): a typo
    costs only the word it is in, so "vertx media" finds Vertex Media Corp, not Tidal Media.

    >>> round(word_match("vertx media", "Vertex Media Corp")), round(word_match("vertx media",
    ...     "Tidal Media Group"))
    (95, 60)
    """
    typed = utils.default_process(text).split()
    words = utils.default_process(name).split()
    if not typed or not words:
        return 0.0
    return sum(max(fuzz.ratio(t, w) for w in words) for t in typed) / len(typed)


def _score(text: str, name: str, words: str = "") -> float:
    """How well ``text`` names ``name``: exact, prefix, contained, else fuzzy (0–100)."""
    needle, label = utils.default_process(text), utils.default_process(name)
    if not needle:
        return 0.0
    if needle == label:
        return EXACT
    if label.startswith(needle):
        return PREFIX
    if needle in label or (words and needle in utils.default_process(words)):
        return CONTAINS
    if len(needle) < FUZZY_MIN_LENGTH:
        return 0.0
    return max(word_match(needle, label), word_match(needle, words) if words else 0.0)


def search_accounts(session: Session, text: str, limit: int = 10) -> list[tuple[int, str, str]]:
    """(id, name, external id) of accounts whose name or id contains ``text``; prefixes first."""
    needle = text.strip().lower()
    if not needle:
        return []
    name = sa.func.lower(Account.name)
    select = (
        sa.select(Account.id, Account.name, Account.external_id)
        .where(sa.or_(name.like(f"%{needle}%"), sa.func.lower(Account.external_id) == needle))
        .order_by(sa.case((name.like(f"{needle}%"), 0), else_=1), name)
        .limit(limit)
    )
    return [(r.id, r.name, r.external_id) for r in session.execute(select).all()]


def _accounts(session: Session, text: str, limit: int) -> list[tuple[float, PaletteEntry]]:
    """Accounts containing the text; when fewer than ``limit``, the closest names by typo."""
    found = {
        account_id: (_score(text, name), name, external_id)
        for account_id, name, external_id in search_accounts(session, text, limit)
    }
    if len(found) < limit and len(utils.default_process(text)) >= FUZZY_MIN_LENGTH:
        # Only (id, name) pairs, iterated as they come: a named row of three columns and two
        # dicts per account cost four times as much on 10,000 accounts; the few names kept get
        # their external ids after.
        names = {
            account_id: name
            for account_id, name in session.execute(sa.select(Account.id, Account.name))
            if account_id not in found
        }
        # A fast first cut in C over every name, then the word-by-word score on the few kept.
        shortlist = process.extract(
            utils.default_process(text),
            names,
            scorer=fuzz.WRatio,
            processor=utils.default_process,
            score_cutoff=FUZZY_CUTOFF - 10,
            limit=SHORTLIST,
        )
        rescored = sorted(
            ((word_match(text, name), name, account_id) for name, _, account_id in shortlist),
            key=lambda item: (-item[0], item[1]),
        )
        kept = [item for item in rescored[: limit - len(found)] if item[0] >= FUZZY_CUTOFF]
        ids = dict(
            session.execute(
                sa.select(Account.id, Account.external_id).where(
                    Account.id.in_([account_id for _, _, account_id in kept])
                )
            ).all()
        )
        for score, name, account_id in kept:
            found[account_id] = (score, name, ids[account_id])
    return [
        (score, PaletteEntry(label=name, url=f"/accounts/{i}", kind="account", hint=external_id))
        for i, (score, name, external_id) in found.items()
    ]


def _owners(session: Session, text: str) -> Iterable[tuple[float, PaletteEntry]]:
    users = session.execute(
        sa.select(User.id, User.name, User.email).where(
            User.is_active.is_(True), User.role != UserRole.viewer
        )
    ).all()
    for user_id, name, email in users:
        score = _score(text, name, email)
        if score >= FUZZY_CUTOFF:
            url = f"/portfolio?owner={user_id}"
            yield score, PaletteEntry(label=name, url=url, kind="owner", hint="their accounts")


def palette(session: Session, text: str, user: User, limit: int = 12) -> list[PaletteEntry]:
    """Pages, actions, owners and accounts matching ``text``, the best first."""
    scored: list[tuple[float, PaletteEntry]] = []
    for p in pages_for(user.role):
        hint = f"g {p.shortcut}" if p.shortcut else None
        entry = PaletteEntry(label=p.label, url=p.url, kind="page", hint=hint)
        scored.append((_score(text, p.label, p.key), entry))
    for action in ACTIONS:
        if user.role in action.roles:
            entry = PaletteEntry(label=action.label, url=action.url, kind="action")
            scored.append((_score(text, action.label, action.words), entry))
    scored += _owners(session, text)
    scored += _accounts(session, text, limit)
    kept = [(s, e) for s, e in scored if s >= FUZZY_CUTOFF]
    kept.sort(key=lambda item: (-item[0], KIND_ORDER[item[1].kind], item[1].label))
    return [entry for _, entry in kept[:limit]]
