from pathlib import Path

import pytest

from tenure.errors import InvalidInput
from tenure.success.messages import DraftRequest, Moment, Party, draft_message


def request(goal: str | None, moment: Moment = Moment.renewal_prep) -> DraftRequest:
    return DraftRequest(
        moment=moment,
        goal=goal,
        account={"name": "Acme"},
        sender=Party("Dana CSM", "dana@vendor.test"),
        receiver=Party("Rita", level="director_vp"),
        outcome_text="cut onboarding time to 2 weeks",
        evidence=["licence utilization 92 %"],
        extra={"renewal_on": "2026-03-31"},
    )


def test_a_message_without_a_goal_is_refused() -> None:
    for goal in (None, "", "   "):
        with pytest.raises(InvalidInput, match="needs a goal"):
            draft_message(request(goal))


def test_draft_carries_every_piece_of_the_model() -> None:
    draft = draft_message(request("book the renewal review"))
    assert draft.subject == "Acme: preparing your renewal on 2026-03-31"
    assert "cut onboarding time to 2 weeks" in draft.body
    assert "- licence utilization 92 %" in draft.body
    assert "Next step: a renewal review meeting" in draft.body
    assert (draft.goal, draft.sender, draft.audience) == (
        "book the renewal review",
        "Dana CSM",
        "Rita (director_vp)",
    )
    assert draft.message_framework.startswith("BEAST")


def test_templates_are_editable(tmp_path: Path) -> None:
    (tmp_path / "risk_outreach.j2").write_text("Subject: Hello {{ account.name }}\n\nShort.\n")
    draft = draft_message(request("get a reply", Moment.risk_outreach), template_dir=tmp_path)
    assert (draft.subject, draft.body) == ("Hello Acme", "Short.\n")
    (tmp_path / "risk_outreach.j2").write_text("{{ account.nope }}")
    with pytest.raises(InvalidInput, match=r"risk_outreach\.j2"):
        draft_message(request("get a reply", Moment.risk_outreach), template_dir=tmp_path)
