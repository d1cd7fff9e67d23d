"""The simulator's parameters: documented YAML (``presets/defaults.yaml``), presets and overrides.

Every key has a default that works and a comment giving its reason in ``defaults.yaml``; a preset
or a user's file overrides any subset (nested mappings merge key by key). ``config_hash`` identifies
the exact parameters behind a data set, so every figure computed on it can cite them.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tenure.errors import InvalidInput

PRESETS_DIR = Path(__file__).parent / "presets"
PRESETS = ("demo", "medium", "large", "monthly")
BILLING_PERIODS = ("monthly", "annual", "multi_year")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SegmentConfig(_Strict):
    share: float = Field(ge=0)
    seats_median: float = Field(gt=0)
    seats_sigma: float = Field(ge=0)
    employees_median: float = Field(gt=0)
    list_price_per_seat: float = Field(gt=0)
    discount_max: float = Field(ge=0, lt=1)
    billing: dict[Literal["monthly", "annual", "multi_year"], float]
    ramp_days: float = Field(gt=0)
    accounts_per_csm: float = Field(gt=0)
    plan: str
    sponsor_share: float = Field(ge=0, le=1)
    touch_every_days: float = Field(gt=0)
    qbr_share: float = Field(ge=0, le=1)
    ebr_share: float = Field(ge=0, le=1)
    tickets_per_user_day: float = Field(ge=0)


class RegionConfig(_Strict):
    share: float = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)
    utc_offset_hours: int = Field(ge=-12, le=14)


class BaseConfig(_Strict):
    initial_share: float = Field(ge=0, le=1)
    max_age_months: int = Field(ge=1)
    monthly_growth: float = Field(ge=-0.5, le=1)


class FitConfig(_Strict):
    good_beta: tuple[float, float]
    bad_beta: tuple[float, float]
    bad_fit_share: float = Field(ge=0, le=1)
    bad_threshold: float = Field(gt=0, lt=1)
    ready_willing_able: float = Field(ge=0, le=1)
    bad_fit_rwa: float = Field(ge=0, le=1)
    handoff_noise: float = Field(ge=0)
    handoff_optimism: float
    handoff_missing: float = Field(ge=0, le=1)
    readiness_flip: float = Field(ge=0, le=1)


class UsageConfig(_Strict):
    events_per_user_day: float = Field(gt=0)
    event_scale: float = Field(ge=0)
    rate_sigma: float = Field(ge=0)
    rate_correlation: float = Field(ge=0, lt=1)
    fit_rate_effect: float
    user_skew: float = Field(ge=1)
    weekday_factors: tuple[float, float, float, float, float, float, float]
    month_factors: list[float] = Field(min_length=12, max_length=12)
    business_hour_peak: int = Field(ge=0, le=23)
    disengage_after_decision: float = Field(ge=0, le=1)
    disengage_before_decision: float = Field(default=0.0, ge=0, le=1)


class FeatureConfig(_Strict):
    key: str = Field(min_length=1, max_length=128)
    name: str
    weight: float = Field(ge=0)
    rate: float = Field(gt=0)
    strategic: bool = False
    released_month: int | None = None


class AdoptionConfig(_Strict):
    basic_feature_share: float = Field(ge=0, le=1)
    strategic_feature_share: float = Field(ge=0, le=1)
    days_mean: float = Field(gt=0)


class ValueConfig(_Strict):
    breadth_weight: float
    utilization_weight: float
    champion_weight: float
    sponsor_weight: float
    outcome_fit_weight: float
    price_weight: float
    incident_weight: float
    idiosyncratic_sd: float = Field(ge=0)
    memory_days: float = Field(gt=0)


class RenewalConfig(_Strict):
    target_annual_logo_churn: float = Field(gt=0, lt=1)
    churn_band: tuple[float, float]
    calibration_shift: float
    value_slope: float = Field(ge=0)
    unexplained_annual: float = Field(ge=0, lt=1)
    downgrade_base: float = Field(ge=0, lt=1)
    expansion_base: float = Field(ge=0, lt=1)
    expansion_utilization_boost: float = Field(ge=1)
    renewal_uplift: float
    multi_year_months: list[int] = Field(min_length=1)
    decision_lead_days: int = Field(ge=0)
    intent_lead_days: int = Field(default=0, ge=0)
    intent_follow_through: float = Field(default=1.0, gt=0, le=1)
    max_seat_growth: float = Field(ge=1)
    notice_share: float = Field(ge=0, le=1)
    notice_lead_days: tuple[int, int]
    stated_truthful: float = Field(ge=0, le=1)
    stated_missing: float = Field(ge=0, le=1)


class RelationshipConfig(_Strict):
    champion_at_signing: float = Field(ge=0, le=1)
    champion_leave_annual: float = Field(ge=0, lt=1)
    champion_promote_annual: float = Field(ge=0, lt=1)
    sponsor_leave_annual: float = Field(ge=0, lt=1)
    replace_share: float = Field(ge=0, le=1)
    replace_days_mean: float = Field(gt=0)
    champion_usage_drop: float = Field(ge=0, le=1)
    stakeholders_max: int = Field(ge=0)
    new_contact_every_days: float = Field(gt=0)
    csm_reassign_annual: float = Field(ge=0, lt=1)
    silence_when_leaving: float = Field(default=0.0, ge=0, le=1)


class SupportConfig(_Strict):
    global_incidents_per_month: float = Field(ge=0)
    account_incidents_per_year: float = Field(ge=0)
    incident_ticket_boost: float = Field(ge=0)
    incident_memory_days: float = Field(gt=0)
    commercial_tickets_per_year: float = Field(default=0.0, ge=0)
    leaving_commercial_tickets_per_month: float = Field(default=0.0, ge=0)


class SentimentConfig(_Strict):
    nps_every_days: int = Field(ge=1)
    contact_response: float = Field(ge=0, le=1)
    user_sample_share: float = Field(ge=0, le=1)
    user_sample_max: int = Field(ge=0)
    csat_after_ticket: float = Field(ge=0, le=1)


class MilestoneConfig(_Strict):
    key: str
    name: str
    days: float = Field(gt=0)
    owner: Literal["vendor", "customer"]


class PlayEffectConfig(_Strict):
    """What one play adds to a treated account's daily utility (simulate/interventions.py)."""

    value_effect: float = Field(ge=-5, le=5)
    duration_days: int = Field(ge=1, le=3650)


class InterventionsConfig(_Strict):
    plays: dict[str, PlayEffectConfig] = Field(default_factory=dict)


class SimulationConfig(_Strict):
    accounts: int = Field(ge=1, le=2_000_000)
    months: int = Field(ge=1, le=120)
    as_of: date
    seed: int = Field(ge=0)
    base: BaseConfig
    segments: dict[str, SegmentConfig]
    industries: list[str] = Field(min_length=1)
    regions: dict[str, RegionConfig]
    fit: FitConfig
    usage: UsageConfig
    features: list[FeatureConfig] = Field(min_length=1)
    adoption: AdoptionConfig
    value: ValueConfig
    renewal: RenewalConfig
    relationships: RelationshipConfig
    support: SupportConfig
    sentiment: SentimentConfig
    milestones: dict[str, list[MilestoneConfig]]
    interventions: InterventionsConfig = Field(default_factory=InterventionsConfig)
    # What finance reports in, and one unit of each other region currency in it at the start
    # (the monthly table drifts around it): the rate file the company hands over with its exports.
    reporting_currency: str = Field(default="USD", min_length=3, max_length=3)
    exchange_rates: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> SimulationConfig:
        if set(self.milestones) != set(self.segments):
            raise ValueError("milestones must list exactly the segments")
        keys = [f.key for f in self.features]
        if len(set(keys)) != len(keys):
            raise ValueError("feature keys must be unique")
        if sum(s.share for s in self.segments.values()) <= 0:
            raise ValueError("segment shares must not all be zero")
        for name, segment in self.segments.items():
            if sum(segment.billing.values()) <= 0:
                raise ValueError(f"segments.{name}.billing: shares must not all be zero")
        return self

    @property
    def segment_names(self) -> list[str]:
        return list(self.segments)

    def dump(self) -> dict[str, Any]:
        """The parameters as JSON; without ``interventions`` when no play is configured, so a
        base run's dump (and hash) is the same as before plays existed."""
        exclude = None if self.interventions.plays else {"interventions"}
        return self.model_dump(mode="json", exclude=exclude)

    def hash(self) -> str:
        """A short SHA-256 of the resolved parameters: cite it beside every figure."""
        return config_hash(self)


def config_hash(config: SimulationConfig) -> str:
    canonical = json.dumps(config.dump(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text())
    except FileNotFoundError as error:
        raise InvalidInput(f"{path}: simulation config file not found") from error
    except yaml.YAMLError as error:
        raise InvalidInput(f"{path}: not valid YAML: {error}") from error
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise InvalidInput(f"{path}: a simulation config must be a mapping of keys to values")
    return loaded


def load_config(
    preset: str = "demo",
    *,
    path: Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> SimulationConfig:
    """Defaults, then the preset, then the user's file, then explicit overrides (CLI flags)."""
    if preset not in PRESETS:
        raise InvalidInput(f"unknown preset {preset!r}: choose one of {', '.join(PRESETS)}")
    raw = _read_yaml(PRESETS_DIR / "defaults.yaml")
    raw = _merge(raw, _read_yaml(PRESETS_DIR / f"{preset}.yaml"))
    if path is not None:
        raw = _merge(raw, _read_yaml(path))
    raw = _merge(raw, {k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return SimulationConfig.model_validate(raw)
    except ValidationError as error:
        where = str(path) if path else f"preset {preset!r}"
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise InvalidInput(f"{where}: invalid simulation config: {problems}") from error
