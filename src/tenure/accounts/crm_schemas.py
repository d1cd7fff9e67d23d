"""Rows of the CRM records no standard object holds: the sales → CS handoff with the Desired
Outcome it captured, and the advocacy a customer gave (success stories, references, referrals);
and the engagement messages the CS team sent from Tenure, in Tenure's own format.

A CRM keeps these in custom objects (Salesforce ``…__c``) or forms; each row names its account
and people by their CRM ids or e-mails, as the other imports do. The handoff's Desired Outcome is
flat here — the Required Outcome's text, the measure it is judged by, the comparison and the
target, and the Appropriate Experience's touch model — because a form or a CSV holds it so.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator

from tenure.accounts.schemas import ExternalId, InputModel, UserEmail
from tenure.model.handoff import HandoffStep
from tenure.model.referral import AdvocacyKind
from tenure.success.messages import Moment
from tenure.success.outcome import TouchModel
from tenure.success.rules import Rule

OUTCOME_PARTS = ("outcome_measure", "outcome_op", "outcome_target", "touch_model")


class HandoffImport(InputModel):
    """One handoff as the CRM recorded it."""

    external_id: ExternalId
    account_external_id: ExternalId
    step: HandoffStep
    handed_off_on: date
    # Who handed the customer over and who received it: a Tenure user's e-mail, or their id in
    # the CRM (a Salesforce User Id).
    from_user_email: UserEmail | None = None
    from_user_external_id: ExternalId | None = None
    to_user_email: UserEmail | None = None
    to_user_external_id: ExternalId | None = None
    # The Desired Outcome captured at this handoff (none: the one in force is confirmed).
    required_outcome: str | None = Field(default=None, max_length=2000)
    # The fact the Required Outcome is judged by (``outcome.<measure>``), the comparison and
    # the target: "outcome.onboarding_days", "lte", 14.
    outcome_measure: str | None = Field(default=None, max_length=200)
    outcome_op: str | None = Field(default=None, max_length=16)
    outcome_target: float | bool | str | None = None
    touch_model: TouchModel | None = None
    note: str | None = Field(default=None, max_length=5000)

    @field_validator("outcome_measure")
    @classmethod
    def _outcome_fact(cls, value: str | None) -> str | None:
        """A measure named alone (``onboarding_days``) is an outcome measurement:
        ``outcome.onboarding_days``, as the CS team records it on the account."""
        if value is None or "." in value:
            return value
        return f"outcome.{value}"

    @field_validator("outcome_target", mode="before")
    @classmethod
    def _typed_target(cls, value: Any) -> Any:
        """A target typed in a cell: a number, true/false, or the text itself."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not text:
            return None
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        try:
            return float(text)
        except ValueError:
            return text

    @model_validator(mode="after")
    def _whole_outcome(self) -> HandoffImport:
        if self.required_outcome is None:
            given = [p for p in OUTCOME_PARTS if getattr(self, p) is not None]
            if given:
                raise ValueError(f"{given[0]}: given without the required_outcome it measures")
            return self
        missing = [p for p in OUTCOME_PARTS if getattr(self, p) is None]
        if missing:
            raise ValueError(
                f"{', '.join(missing)}: a Required Outcome needs the measure it is judged by, "
                "the comparison, the target and the Appropriate Experience's touch model"
            )
        self.target()  # a comparison Tenure does not know is refused here, with the row
        return self

    def target(self) -> Rule:
        try:
            return Rule(
                field=str(self.outcome_measure), op=str(self.outcome_op), value=self.outcome_target
            )
        except ValidationError as error:
            reason = str(error.errors()[0]["msg"]).removeprefix("Value error, ")
            raise ValueError(f"outcome_op: {reason}") from None


class AdvocacyImport(InputModel):
    """One success story, case study, reference, speaker slot or referral, from the CRM."""

    external_id: ExternalId
    account_external_id: ExternalId
    kind: AdvocacyKind
    occurred_on: date
    title: str | None = Field(default=None, max_length=255)
    note: str | None = Field(default=None, max_length=20_000)
    # Who at the customer gave it, and for a referral the customer it brought in.
    contact_external_id: ExternalId | None = None
    referred_account_external_id: ExternalId | None = None

    @model_validator(mode="after")
    def _consistent(self) -> AdvocacyImport:
        if self.referred_account_external_id is not None:
            if self.kind is not AdvocacyKind.referral:
                raise ValueError(
                    "referred_account_external_id: only a referral brings in a customer"
                )
            if self.referred_account_external_id == self.account_external_id:
                raise ValueError("referred_account_external_id: an account cannot refer itself")
        if not self.title and self.kind is not AdvocacyKind.referral:
            raise ValueError(f"title: say what the {self.kind.value.replace('_', ' ')} is")
        return self


class MessageImport(InputModel):
    """One engagement message already sent, with its goal and the check that tells whether it was
    met (Tenure's own format: the demo company's messages, a restore). Its goal is judged by the
    daily run once the check day has come, on the metrics stored after it was sent."""

    external_id: ExternalId
    account_external_id: ExternalId
    # Who it went to, and the CS team member who wrote and sent it.
    contact_external_id: ExternalId
    sender_email: UserEmail
    moment: Moment = Field(description="the message template")
    goal: str = Field(min_length=1, max_length=500)
    metric: str | None = Field(default=None, max_length=64)
    comparison: str | None = Field(default=None, max_length=16)
    target: float | None = None
    milestone: str | None = Field(default=None, max_length=64)
    check_after_days: int = Field(ge=1, le=365)
    subject: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1, max_length=20_000)
    sent_on: date
    # The addresses it went to and from; when absent, the contact's and the sender's e-mail.
    recipient: str | None = Field(default=None, max_length=320)
    sender: str | None = Field(default=None, max_length=320)

    @model_validator(mode="after")
    def _one_check(self) -> MessageImport:
        """Exactly one way to check the goal, complete: a metric with comparison and target, or
        a milestone key."""
        if (self.metric is None) == (self.milestone is None):
            raise ValueError(
                "metric: say how the goal is checked — a metric with a comparison and a target, "
                "or a milestone key, not both"
            )
        if self.metric is not None:
            if self.comparison not in ("at_least", "at_most"):
                raise ValueError(f"comparison: {self.comparison!r} — use at_least or at_most")
            if self.target is None:
                raise ValueError(f"target: the value {self.metric} should reach is missing")
        return self
