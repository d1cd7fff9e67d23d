"""One keyset pager (tenure.portfolio.records.Keyset) under the opportunity, advocacy and survey
campaign answer lists: a cursor holds its list's sort key and nothing else, and a cursor that
list did not write is refused with the same reason, on every backend."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from sqlalchemy.orm import Session

from tenure.auth.permissions import system_actor
from tenure.errors import InvalidInput
from tenure.model import SurveyKind
from tenure.playbooks import surveys
from tenure.portfolio.pipeline import (
    ADVOCACY_KEYS,
    OPPORTUNITY_KEYS,
    advocacy_page,
    opportunity_page,
)
from tenure.portfolio.records import Keyset, encode_cursor


def test_a_key_goes_into_a_cursor_and_comes_back_the_same() -> None:
    keys = {
        OPPORTUNITY_KEYS: [(None, "Acme", 3), (date(2026, 4, 30), "Äpfel GmbH", 2**63 - 1)],
        ADVOCACY_KEYS: [(date(2026, 1, 4), 11)],
        surveys.ANSWER_KEYS: [(datetime(2026, 3, 3, 9, 30), 5)],
    }
    for pager, examples in keys.items():
        for key in examples:
            assert pager.decode(pager.encode(key)) == key


@pytest.mark.parametrize(
    ("pager", "cursor"),
    [
        # Another list's cursor: another key.
        (OPPORTUNITY_KEYS, ADVOCACY_KEYS.encode((date(2026, 1, 4), 11))),
        (ADVOCACY_KEYS, OPPORTUNITY_KEYS.encode((None, "Acme", 3))),
        (surveys.ANSWER_KEYS, ADVOCACY_KEYS.encode((date(2026, 1, 4), None))),
        # Not a key at all.
        (surveys.ANSWER_KEYS, encode_cursor(["2026-03-03T09:30:00", "5"])),
        (surveys.ANSWER_KEYS, encode_cursor({"at": "2026-03-03"})),
        (surveys.ANSWER_KEYS, "bm90IGEgY3Vyc29y"),
    ],
)
def test_a_cursor_its_list_did_not_write_is_refused(pager: Keyset, cursor: str) -> None:
    with pytest.raises(
        InvalidInput, match=re.escape(f"cursor {cursor!r} is not a cursor this API returned")
    ):
        pager.decode(cursor)


def test_every_list_refuses_another_lists_cursor(session: Session) -> None:
    """Through each list's own function, on the test's backend."""
    campaign = surveys.create_campaign(
        session, system_actor(session, "test"), name="q1", kind=SurveyKind.nps
    )
    opportunity = OPPORTUNITY_KEYS.encode((None, "Acme", 3))
    advocacy = ADVOCACY_KEYS.encode((date(2026, 1, 4), 11))
    with pytest.raises(InvalidInput, match="is not a cursor this API returned"):
        opportunity_page(session, limit=5, cursor=advocacy)
    with pytest.raises(InvalidInput, match="is not a cursor this API returned"):
        advocacy_page(session, limit=5, cursor=opportunity)
    with pytest.raises(InvalidInput, match="is not a cursor this API returned"):
        surveys.campaign_view(session, campaign.id, cursor=opportunity)
    # The lists' own cursors read: nothing after them here.
    assert opportunity_page(session, limit=5, cursor=opportunity).items == []
    assert advocacy_page(session, limit=5, cursor=advocacy).items == []
