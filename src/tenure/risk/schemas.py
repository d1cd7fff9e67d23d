"""The shapes churn-risk surfaces exchange (CLI --json, API, web)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, field_validator

from tenure.risk.reasons import feature_label


def risk_window(horizon_days: int, lead_days: int = 0) -> str:
    """The days a churn probability is about, as every surface says them.

    >>> risk_window(120, 30), risk_window(120)
    ('30–120 days ahead', 'within 120 days')
    """
    return f"{lead_days}–{horizon_days} days ahead" if lead_days else f"within {horizon_days} days"


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
