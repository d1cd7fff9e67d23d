"""Health scorecards: a documented YAML of measures, weights and thresholds → a 0–100 score that
explains itself.

Pure: no session, no clock. A scorecard is a list of *profiles* (the first whose ``match`` fits the
account is used, the last one matches everyone), each a list of *measures*:

- a measure reads one registered metric (its slug) and can earn at most ``weight`` points; the
  weights of a profile add up to 100, so the score is the plain sum of the measures' points and an
  explanation always adds up to the score exactly;
- ``thresholds`` are steps from worst to best: the measure earns the points of the best step its
  value reaches (``value >= at`` when higher is better, ``value <= at`` when lower is better),
  0 below the first step, ``missing_points`` when the metric has no data; the last step is worth
  the full weight;
- "what would move it" is the next step: its threshold and the points the score would gain.

Bands (red/yellow/green…) are score floors; trend compares with the previous stored score and
calls moves within ``trend_tolerance`` points flat.

    card = load_scorecard_text(Path("default_scorecard.yaml").read_text(), "default_scorecard.yaml")
    result = score_account(card, {"license_utilization": 0.55, ...}, as_of=date(2025, 3, 31))
    result.score, [(m.metric, m.points, m.gain) for m in result.measures]
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tenure import yaml_text
from tenure.errors import InvalidInput, NotFound
from tenure.health.schemas import AccountScore, MeasureScore
from tenure.metrics.registry import Metric, Unit, get_metric
from tenure.words import compared

TOTAL_POINTS = 100


class Direction(enum.StrEnum):
    higher_is_better = "higher_is_better"
    lower_is_better = "lower_is_better"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Threshold(_Strict):
    at: float
    points: int = Field(ge=0)


class Measure(_Strict):
    metric: str
    weight: int = Field(gt=0, le=TOTAL_POINTS)
    direction: Direction = Direction.higher_is_better
    thresholds: list[Threshold] = Field(min_length=1)
    missing_points: int = Field(default=0, ge=0)
    why: str = ""

    @model_validator(mode="after")
    def _steps_climb_to_the_weight(self) -> Measure:
        try:
            get_metric(self.metric)
        except NotFound as error:  # names the unknown slug and lists the known ones
            raise ValueError(error.message) from None
        steps = self.thresholds
        for worse, better in itertools.pairwise(steps):
            if better.points <= worse.points:
                raise ValueError(f"{self.metric}: thresholds must earn more points at each step")
            wrong_way = (
                better.at <= worse.at
                if self.direction is Direction.higher_is_better
                else better.at >= worse.at
            )
            if wrong_way:
                order = "increase" if self.direction is Direction.higher_is_better else "decrease"
                raise ValueError(
                    f"{self.metric}: with {self.direction.value}, thresholds' `at` must {order}"
                )
        if steps[-1].points != self.weight:
            raise ValueError(
                f"{self.metric}: the best threshold must earn the full weight {self.weight}, "
                f"not {steps[-1].points}"
            )
        if self.missing_points > self.weight:
            raise ValueError(f"{self.metric}: missing_points exceeds the weight {self.weight}")
        return self

    def reached(self, value: float) -> Threshold | None:
        """The best step ``value`` reaches, if any."""
        best = None
        for step in self.thresholds:
            ok = (
                value >= step.at
                if self.direction is Direction.higher_is_better
                else value <= step.at
            )
            if ok:
                best = step
        return best


class Range(_Strict):
    below: float | None = None
    at_least: float | None = None

    def holds(self, value: Any) -> bool:
        if not isinstance(value, int | float) or math.isnan(value):
            return False
        return (self.below is None or value < self.below) and (
            self.at_least is None or value >= self.at_least
        )


class Profile(_Strict):
    name: str
    description: str = ""
    # column → allowed values, or a numeric range ({below: 90}); all conditions must hold
    match: dict[str, list[str | int | float] | Range] = Field(default_factory=dict)
    measures: list[Measure] = Field(min_length=1)

    @model_validator(mode="after")
    def _weights_make_100(self) -> Profile:
        total = sum(m.weight for m in self.measures)
        if total != TOTAL_POINTS:
            raise ValueError(f"profile {self.name!r}: weights add up to {total}, not 100")
        slugs = [m.metric for m in self.measures]
        repeated = sorted({s for s in slugs if slugs.count(s) > 1})
        if repeated:
            raise ValueError(f"profile {self.name!r}: metric(s) measured twice: {repeated}")
        return self

    def matches(self, account: Mapping[str, Any]) -> bool:
        for column, condition in self.match.items():
            value = account.get(column)
            if isinstance(condition, Range):
                if not condition.holds(value):
                    return False
            elif value not in condition:
                return False
        return True


class Band(_Strict):
    name: str
    min_score: int = Field(ge=0, le=TOTAL_POINTS)


class Scorecard(_Strict):
    name: str
    version: str
    description: str = ""
    trend_tolerance: int = Field(default=3, ge=0)
    bands: list[Band] = Field(min_length=1)
    profiles: list[Profile] = Field(min_length=1)

    @model_validator(mode="after")
    def _bands_and_fallback(self) -> Scorecard:
        floors = [b.min_score for b in self.bands]
        if floors[0] != 0 or floors != sorted(set(floors)):
            raise ValueError(
                "bands must start at 0 (min_score) and each start higher than the one before"
            )
        if self.profiles[-1].match:
            raise ValueError(
                f"the last profile ({self.profiles[-1].name!r}) must have no `match`: "
                "it scores every account no other profile matches"
            )
        return self

    def profile_for(self, account: Mapping[str, Any]) -> Profile:
        return next(p for p in self.profiles if p.matches(account))

    def band_for(self, score: int) -> str:
        return [b.name for b in self.bands if b.min_score <= score][-1]


def _present(value: Any) -> float | None:
    if value is None or isinstance(value, str):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _target(measure: Measure, metric: Metric, at: float) -> str:
    """The next step as a person reads it: ``at least 40 %``, ``at most 7 days``, ``none``."""
    if metric.unit is Unit.flag:
        return metric.format(at)
    if measure.direction is Direction.higher_is_better:
        return compared(">=", metric.format(at))
    if metric.unit is Unit.number and at == 0:
        return "none"  # open tickets: "none", not "at most 0"
    return compared("<=", metric.format(at))


def measure_points(measure: Measure, value: float | None) -> int:
    """Points a present value (or no data: None) earns on one measure."""
    if value is None:
        return measure.missing_points
    step = measure.reached(value)
    return step.points if step else 0


def score_measure(measure: Measure, raw: Any) -> MeasureScore:
    """Points a value earns on one measure, and the next step that would earn more."""
    metric = get_metric(measure.metric)
    value = _present(raw)
    points = measure_points(measure, value)
    upgrade = next((s for s in measure.thresholds if s.points > points), None)
    return MeasureScore(
        metric=measure.metric,
        name=metric.name,
        value=value,
        shown=metric.format(value),
        points=points,
        max_points=measure.weight,
        next_at=upgrade.at if upgrade else None,
        next_shown=None if upgrade is None else _target(measure, metric, upgrade.at),
        gain=upgrade.points - points if upgrade else 0,
    )


def trend_of(score: int, previous: int | None, tolerance: int) -> str:
    """``up``/``down`` when the score moved by more than ``tolerance`` points, else ``flat``."""
    if previous is None:
        return "new"
    if score - previous > tolerance:
        return "up"
    if previous - score > tolerance:
        return "down"
    return "flat"


def score_account(
    card: Scorecard,
    account: Mapping[str, Any],
    *,
    as_of: date,
    previous_score: int | None = None,
) -> AccountScore:
    """Score one account's metric row (a mapping of metric slug → value plus account columns)."""
    profile = card.profile_for(account)
    measures = [score_measure(m, account.get(m.metric)) for m in profile.measures]
    score = sum(m.points for m in measures)
    return AccountScore(
        account_id=int(account["account_id"]),
        account_external_id=str(account["account_external_id"]),
        account_name=str(account["account_name"]),
        as_of=as_of,
        scorecard=card.name,
        scorecard_version=card.version,
        profile=profile.name,
        score=score,
        band=card.band_for(score),
        trend=trend_of(score, previous_score, card.trend_tolerance),
        previous_score=previous_score,
        measures=measures,
    )


def score_only(card: Scorecard, account: Mapping[str, Any]) -> int:
    """The score alone, without the explanation: what a backtest over many days needs.

    >>> from pathlib import Path
    >>> card = load_scorecard_text(Path(__file__).with_name("default_scorecard.yaml").read_text(),
    ...                            "default_scorecard.yaml")
    >>> score_only(card, {"tenure_days": 400}) == score_account(card, {"tenure_days": 400,
    ...     "account_id": 1, "account_external_id": "a", "account_name": "A"},
    ...     as_of=date(2025, 1, 1)).score
    True
    """
    profile = card.profile_for(account)
    return sum(measure_points(m, _present(account.get(m.metric))) for m in profile.measures)


def score_accounts(
    card: Scorecard,
    accounts: Sequence[Mapping[str, Any]],
    *,
    as_of: date,
    previous: Mapping[int, int] | None = None,
) -> list[AccountScore]:
    """Score every row; ``previous`` maps account id → its previous stored score."""
    before = previous or {}
    return [
        score_account(card, a, as_of=as_of, previous_score=before.get(int(a["account_id"])))
        for a in accounts
    ]


# --- loading YAML with errors that name the line -----------------------------------------------


def _line_of(node: yaml.Node | None, path: Sequence[int | str]) -> int | None:
    line = node.start_mark.line + 1 if node is not None else None
    for key in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def load_scorecard_text(text: str, source: str) -> Scorecard:
    """Parse and validate a scorecard; InvalidInput names the file, line and field at fault.

    A text read before gives the card parsed then (a card is frozen): the admin and scorecard
    pages and every score read the card in force, ~100 ms of YAML a request at 10,000 accounts'
    load. A refused text is parsed again each time, so its error is always said."""
    return _parsed(text, source)


@lru_cache(maxsize=64)
def _parsed(text: str, source: str) -> Scorecard:
    try:
        data = yaml_text.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInput(f"{source}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise InvalidInput(
            f"{source}: a scorecard is a mapping with name, version, bands, profiles"
        )
    try:
        return Scorecard.model_validate(data)
    except ValidationError as error:
        tree = yaml.compose(text)  # the nodes' lines, for the message only
        problems = []
        for issue in error.errors():
            where = ".".join(str(p) for p in issue["loc"]) or "(top level)"
            line = _line_of(tree, [p for p in issue["loc"] if isinstance(p, int | str)])
            message = issue["msg"].removeprefix("Value error, ")
            problems.append(f"{source}:{line}: {where}: {message}")
        raise InvalidInput("invalid scorecard\n" + "\n".join(problems)) from None
