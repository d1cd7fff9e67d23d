"""The shapes churn-risk surfaces exchange (CLI --json, API, web)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, computed_field, field_validator

from tenure.risk.figures import churn_probability, churn_window
from tenure.risk.reasons import feature_label


class ChurnRiskRead(BaseModel):
    """One account's stored churn risk with the reasons behind it."""

    account_id: int
    account_external_id: str
    account_name: str
    as_of: date
    model_version: str
    probability: float
    horizon_days: int
    # The probability is of a loss between lead_days and horizon_days after as_of.
    lead_days: int = 0
    renewal_probability: float | None
    next_renewal_on: date | None
    arr_at_risk: float | None
    currency: str | None
    in_alert_set: bool
    reasons: list[dict[str, Any]]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def churn_probability(self) -> float:
        """The account's one churn probability (tenure.risk.figures), as every surface shows it."""
        return churn_probability(self.probability, self.renewal_probability)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def churn_window(self) -> str:
        """What that probability is about, in words."""
        return churn_window(
            self.horizon_days, self.lead_days, self.next_renewal_on, self.renewal_probability
        )

    @field_validator("reasons")
    @classmethod
    def _labelled(cls, reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every reason carries its label, also those stored before labels were."""
        return [
            {**r, "label": r.get("label") or feature_label(str(r.get("feature")))} for r in reasons
        ]


class ScoreRun(BaseModel):
    """What `tenure model score` did: which model, which day, how many accounts, the scores."""

    as_of: date
    model_version: str
    accounts: int
    alerts: int
    scores: list[ChurnRiskRead]
