"""Fit, Success Potential, the Ideal Customer Profile and readiness (Lincoln Murphy).

Definitions (shared/FRAMEWORKS.md):
- The six fits [pub]: technical, functional, resource, competence, experience, cultural. Each fit
  holds configurable criteria (YAML, `fit.yaml` shipped), each ``must`` or ``nice``, each evaluated
  to pass / fail / unknown over account facts.
- **Success Potential** is yes / no, not a score [pub]: ``success_potential`` is True iff every
  ``must`` criterion passes, False if any ``must`` fails, None when no ``must`` fails but one is
  unknown [default]. Only technical and functional criteria are ``must`` in the shipped config
  [default, after "start with Technical and Functional Fit" — pub].
- **fit_band** [default]: good = Success Potential and inside the ICP; stretch = Success Potential,
  outside the ICP; bad = no Success Potential; unknown = either answer unknown.
- **Readiness** [default]: the number of Ready / Willing / Able met (0–3); each dimension is met
  when all its rules pass, and the missing ones are listed.
- **Churn and ARR by fit band** [pub: "report churn and ARR by fit"]: per band and currency,
  accounts, churned accounts, logo churn rate, starting ARR and churned ARR — ARR is never summed
  across currencies.

>>> cfg = FitConfig.model_validate({"criteria": [{"key": "crm", "fit": "technical",
...     "importance": "must", "rule": {"field": "handoff.crm_ok", "op": "truthy"}}]})
>>> assess_fit({"handoff.crm_ok": True}, cfg).success_potential
True
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tenure.errors import InvalidInput
from tenure.success.rules import Outcome, Rule, combine, evaluate, load_yaml_model


class FitKind(enum.StrEnum):
    technical = "technical"
    functional = "functional"
    resource = "resource"
    competence = "competence"
    experience = "experience"
    cultural = "cultural"


class Importance(enum.StrEnum):
    must = "must"
    nice = "nice"


class FitBand(enum.StrEnum):
    good = "good"
    stretch = "stretch"
    bad = "bad"
    unknown = "unknown"


BAND_ORDER = (FitBand.good, FitBand.stretch, FitBand.bad, FitBand.unknown)


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    fit: FitKind
    importance: Importance = Importance.nice
    description: str = ""
    rule: Rule


class IcpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    description: str = ""
    rules: list[Rule] = Field(default_factory=list)


class ReadinessConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ready: list[Rule] = Field(default_factory=list)
    willing: list[Rule] = Field(default_factory=list)
    able: list[Rule] = Field(default_factory=list)


class FitConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    criteria: list[Criterion]
    icp: IcpConfig = Field(default_factory=IcpConfig)
    readiness: ReadinessConfig = Field(default_factory=ReadinessConfig)


def load_fit_config(path: Path | None = None) -> FitConfig:
    """The YAML at `path`, or the shipped defaults; mistakes name the file and the field."""
    config = load_yaml_model(FitConfig, path, "fit.yaml", "fit config")
    keys = [c.key for c in config.criteria]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        raise InvalidInput(
            f"{path or 'fit.yaml'}: criteria keys must be unique, repeated: {duplicated}"
        )
    return config


class CriterionResult(BaseModel):
    key: str
    fit: FitKind
    importance: Importance
    outcome: Outcome
    reason: str


class FitSummary(BaseModel):
    fit: FitKind
    outcome: Outcome
    criteria: list[str]


class ReadinessResult(BaseModel):
    score: int = Field(ge=0, le=3)
    met: list[str]
    missing: list[str]
    reasons: list[str]


class FitAssessment(BaseModel):
    """One account's fit: every criterion with the value that decided it."""

    config_version: int
    criteria: list[CriterionResult]
    fits: list[FitSummary]
    success_potential: bool | None
    failing: list[str]
    unknown: list[str]
    icp_match: bool | None
    icp_reasons: list[str]
    fit_band: FitBand
    band_reason: str
    readiness: ReadinessResult


def _all_pass(rules: Iterable[Rule], facts: Mapping[str, Any]) -> tuple[Outcome, list[str]]:
    results = [evaluate(rule, facts) for rule in rules]
    return combine(r.outcome for r in results), [r.reason for r in results]


def _band(potential: bool | None, icp: bool | None) -> tuple[FitBand, str]:
    if potential is False:
        return FitBand.bad, "no Success Potential: a must criterion fails"
    if potential is None:
        return FitBand.unknown, "Success Potential unknown: a must criterion has no data"
    if icp is None:
        return FitBand.unknown, "Success Potential, but the ICP match is unknown"
    if icp:
        return FitBand.good, "Success Potential and inside the Ideal Customer Profile"
    return FitBand.stretch, "Success Potential, outside the Ideal Customer Profile"


def assess_readiness(facts: Mapping[str, Any], config: ReadinessConfig) -> ReadinessResult:
    """Ready / Willing / Able met (0–3); a dimension without rules or data counts as missing."""
    met: list[str] = []
    missing: list[str] = []
    reasons: list[str] = []
    for name in ("ready", "willing", "able"):
        rules: list[Rule] = getattr(config, name)
        outcome, why = _all_pass(rules, facts) if rules else (Outcome.unknown, ["not configured"])
        (met if outcome is Outcome.passed else missing).append(name)
        reasons.append(f"{name}: {outcome.value} ({'; '.join(why)})")
    return ReadinessResult(score=len(met), met=met, missing=missing, reasons=reasons)


def assess_fit(facts: Mapping[str, Any], config: FitConfig) -> FitAssessment:
    """Evaluate every criterion, the six fits, Success Potential, ICP, band and readiness."""
    results = []
    for criterion in config.criteria:
        result = evaluate(criterion.rule, facts)
        results.append(
            CriterionResult(
                key=criterion.key,
                fit=criterion.fit,
                importance=criterion.importance,
                outcome=result.outcome,
                reason=result.reason,
            )
        )
    fits = [
        FitSummary(
            fit=kind,
            outcome=combine(r.outcome for r in results if r.fit is kind),
            criteria=[r.key for r in results if r.fit is kind],
        )
        for kind in FitKind
        if any(r.fit is kind for r in results)
    ]
    musts = [r for r in results if r.importance is Importance.must]
    must_outcome = combine(r.outcome for r in musts)
    potential = {Outcome.passed: True, Outcome.failed: False, Outcome.unknown: None}[must_outcome]
    if config.icp.rules:
        icp_outcome, icp_reasons = _all_pass(config.icp.rules, facts)
        icp = {Outcome.passed: True, Outcome.failed: False, Outcome.unknown: None}[icp_outcome]
    else:
        icp, icp_reasons = None, ["no ICP configured"]
    band, band_reason = _band(potential, icp)
    return FitAssessment(
        config_version=config.version,
        criteria=results,
        fits=fits,
        success_potential=potential,
        failing=[r.key for r in results if r.outcome is Outcome.failed],
        unknown=[r.key for r in results if r.outcome is Outcome.unknown],
        icp_match=icp,
        icp_reasons=icp_reasons,
        fit_band=band,
        band_reason=band_reason,
        readiness=assess_readiness(facts, config.readiness),
    )


# --- churn and ARR by fit band ---------------------------------------------------------------


@dataclass(frozen=True)
class BandedAccount:
    account_id: int
    fit_band: FitBand
    currency: str
    arr: float
    churned: bool


class BandRow(BaseModel):
    fit_band: FitBand
    currency: str
    accounts: int
    churned: int
    logo_churn_rate: float | None
    arr: float
    churned_arr: float
    arr_churn_rate: float | None


class FitBandReport(BaseModel):
    """Churn and ARR by fit band — the figures to share upstream with sales and marketing."""

    rows: list[BandRow]
    note: str = "You can't solve upstream problems downstream: don't sign bad-fit customers."


def churn_by_fit_band(accounts: Iterable[BandedAccount]) -> FitBandReport:
    """Per band and currency: logo churn = churned ÷ accounts; ARR churn = churned ARR ÷ ARR.

    >>> r = churn_by_fit_band([BandedAccount(1, FitBand.good, "USD", 100.0, False),
    ...                        BandedAccount(2, FitBand.bad, "USD", 50.0, True)])
    >>> [(row.fit_band.value, row.logo_churn_rate) for row in r.rows]
    [('good', 0.0), ('bad', 1.0)]
    """
    groups: dict[tuple[FitBand, str], list[BandedAccount]] = defaultdict(list)
    for account in accounts:
        groups[(account.fit_band, account.currency)].append(account)
    rows = []
    for (band, currency), members in sorted(
        groups.items(), key=lambda item: (BAND_ORDER.index(item[0][0]), item[0][1])
    ):
        churned = [a for a in members if a.churned]
        arr = sum(a.arr for a in members)
        churned_arr = sum(a.arr for a in churned)
        rows.append(
            BandRow(
                fit_band=band,
                currency=currency,
                accounts=len(members),
                churned=len(churned),
                logo_churn_rate=len(churned) / len(members),
                arr=arr,
                churned_arr=churned_arr,
                arr_churn_rate=churned_arr / arr if arr else None,
            )
        )
    return FitBandReport(rows=rows)
