"""The Customer Success Maturity Index (CSRI), after Andreas Knoefel's renewals-chasm series.

[pub] Six pillars — Playbooks, Onboarding, Community, Productivity, ROI, Alignment — each at
Undeveloped, Emerging, Expanding or Conquering; the index falls in the bands < 15 Undeveloped,
< 30 Emerging, < 45 Expanding, Conquering above. The seed's "Value" section is the ROI pillar.

[default] The published scoring table is not in our sources, so each pillar scores 0–3 by stage and
CSRI = 60 × Σ ÷ 18 (0–60); a CSRI of exactly 45 is Conquering. Each pillar's stage is always shown
beside the number. Pillars measurable from data are pre-filled; the team answers the rest and may
override a pre-filled one (the assessment records who set each pillar):
- ROI: the median of the accounts' Value/ROI pillar stages (value.py) — the stage at least half
  the portfolio has reached.
- Onboarding: share of accounts onboarded reaching first value within the target (default 90
  days): < 25 % Undeveloped, < 50 % Emerging, < 75 % Expanding, otherwise Conquering.
- Productivity: share of active accounts whose productivity is measured (licence utilization known
  and at least the target, default 80 %), same quartile thresholds.

>>> csri({p: Stage.expanding for p in Pillar}).csri
40.0
"""

from __future__ import annotations

import enum
import statistics
from collections.abc import Mapping, Sequence

from pydantic import BaseModel

from tenure.errors import InvalidInput
from tenure.words import percent


class Pillar(enum.StrEnum):
    playbooks = "playbooks"
    onboarding = "onboarding"
    community = "community"
    productivity = "productivity"
    roi = "roi"
    alignment = "alignment"


class Stage(enum.StrEnum):
    undeveloped = "undeveloped"
    emerging = "emerging"
    expanding = "expanding"
    conquering = "conquering"

    @property
    def points(self) -> int:
        return list(Stage).index(self)

    @classmethod
    def from_points(cls, points: int) -> Stage:
        return list(Stage)[points]


MEASURABLE = (Pillar.roi, Pillar.onboarding, Pillar.productivity)
SHARE_THRESHOLDS = (0.25, 0.50, 0.75)


class PillarScore(BaseModel):
    pillar: Pillar
    stage: Stage
    points: int
    source: str  # "data" or "team"
    reasons: list[str]


class CsriResult(BaseModel):
    pillars: list[PillarScore]
    total_points: int
    csri: float
    band: Stage


def band_for(index: float) -> Stage:
    """< 15 Undeveloped, < 30 Emerging, < 45 Expanding, ≥ 45 Conquering."""
    if index < 15:
        return Stage.undeveloped
    if index < 30:
        return Stage.emerging
    if index < 45:
        return Stage.expanding
    return Stage.conquering


def csri(
    stages: Mapping[Pillar, Stage],
    *,
    sources: Mapping[Pillar, str] | None = None,
    reasons: Mapping[Pillar, list[str]] | None = None,
) -> CsriResult:
    """CSRI = 60 × Σ points ÷ 18; every pillar must have a stage."""
    missing = [p.value for p in Pillar if p not in stages]
    if missing:
        raise InvalidInput(f"maturity assessment incomplete: no stage for {', '.join(missing)}")
    scores = [
        PillarScore(
            pillar=p,
            stage=stages[p],
            points=stages[p].points,
            source=(sources or {}).get(p, "team"),
            reasons=(reasons or {}).get(p, []),
        )
        for p in Pillar
    ]
    total = sum(s.points for s in scores)
    index = 60 * total / 18
    return CsriResult(pillars=scores, total_points=total, csri=index, band=band_for(index))


def _share_stage(share: float) -> Stage:
    return Stage.from_points(sum(1 for t in SHARE_THRESHOLDS if share >= t))


def prefill(
    roi_stages: Sequence[Stage],
    days_to_first_value: Sequence[int | None],
    utilizations: Sequence[float | None],
    *,
    onboarding_target_days: int = 90,
    utilization_target: float = 0.8,
) -> dict[Pillar, tuple[Stage, list[str]]]:
    """Stages of the measurable pillars from portfolio data, each with the figures behind it.

    ``days_to_first_value`` has one entry per onboarded account (None: not reached yet);
    ``utilizations`` one per active account (None: not measured).
    """
    out: dict[Pillar, tuple[Stage, list[str]]] = {}
    if roi_stages:
        median = int(statistics.median_low(s.points for s in roi_stages))
        stage = Stage.from_points(median)
        out[Pillar.roi] = (stage, [f"median Value stage over {len(roi_stages)} accounts: {stage}"])
    if days_to_first_value:
        on_time = sum(
            1 for d in days_to_first_value if d is not None and d <= onboarding_target_days
        )
        share = on_time / len(days_to_first_value)
        out[Pillar.onboarding] = (
            _share_stage(share),
            [
                f"{on_time} of {len(days_to_first_value)} accounts reached first value within "
                f"{onboarding_target_days} days ({percent(share)})"
            ],
        )
    if utilizations:
        measured = sum(1 for u in utilizations if u is not None and u >= utilization_target)
        share = measured / len(utilizations)
        out[Pillar.productivity] = (
            _share_stage(share),
            [
                f"{measured} of {len(utilizations)} active accounts at "
                f"{percent(utilization_target)} license utilization or more ({percent(share)})"
            ],
        )
    return out
