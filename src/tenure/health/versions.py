"""Health scorecard versions as stored definitions: save a new version, put one in force, list them.

Every score cites (scorecard, version), and every cited version is stored here with the YAML that
defines it, who saved it and when — so "version 2" is a definition, not a label. The version in
force is the one put in force last; the daily run scores with it.

Where a version comes from:

- a person saves one (console, API or ``tenure health save FILE``) — admins and managers only; it
  is stored, not yet in force, so it can be backtested against the one in force first
  (:mod:`tenure.health.backtest_service`) and then put in force;
- the data dir's ``scorecard.yaml`` (else the shipped default) is registered the first time it is
  read with a (name, version) not stored yet, and put in force then: bumping ``version`` in that
  file keeps working as it always did;
- scoring with a card that is not stored (``tenure health score --scorecard FILE``) stores it.

A (name, version) already stored with a different definition is refused with the date and author
of the stored one: two definitions under one label would make scores and trends lie.

    save_version(session, data_dir, text, actor, note="NPS weighs less")  # not in force yet
    put_in_force(session, data_dir, "default@2", actor)
    card = scorecard_in_force(session, settings.data_dir)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tenure.auth import audit
from tenure.auth.permissions import Actor, require_role
from tenure.errors import InvalidInput, NotFound
from tenure.health.schemas import (
    MeasureForm,
    ProfileForm,
    ScorecardEdit,
    ScorecardVersionRead,
)
from tenure.health.scorecard import Direction, Scorecard, load_scorecard_text
from tenure.metrics.registry import Unit, get_metric
from tenure.model import HealthScore, ScorecardVersion, User, UserRole
from tenure.model.base import utcnow

# Who may change the scorecard every account is judged by.
EDITORS = (UserRole.admin, UserRole.manager)
DEFAULT_SCORECARD = Path(__file__).with_name("default_scorecard.yaml")
SCORECARD_FILE = "scorecard.yaml"


def digest_of(card: Scorecard) -> str:
    """sha256 of the validated definition: comments and layout do not make a new version."""
    canonical = json.dumps(card.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def scorecard_path(data_dir: Path, explicit: Path | None = None) -> Path:
    """``explicit``, else ``<data_dir>/scorecard.yaml`` when present, else the shipped default."""
    if explicit is not None:
        return explicit
    custom = data_dir / SCORECARD_FILE
    return custom if custom.exists() else DEFAULT_SCORECARD


def read_scorecard_file(path: Path) -> tuple[Scorecard, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInput(f"cannot read scorecard {path}: {error.strerror}") from None
    return load_scorecard_text(text, str(path)), text


def card_of(row: ScorecardVersion | ScorecardVersionRead) -> Scorecard:
    return load_scorecard_text(row.text, f"scorecard {row.scorecard} version {row.version}")


def _find(session: Session, name: str, version: str) -> ScorecardVersion | None:
    return session.scalar(
        sa.select(ScorecardVersion).where(
            ScorecardVersion.scorecard == name, ScorecardVersion.version == version
        )
    )


def in_force_row(session: Session) -> ScorecardVersion | None:
    """The version put in force last, if any was."""
    return session.scalar(
        sa.select(ScorecardVersion)
        .where(ScorecardVersion.in_force_since.is_not(None))
        .order_by(ScorecardVersion.in_force_since.desc(), ScorecardVersion.id.desc())
        .limit(1)
    )


def _author(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return None if user is None else (user.name or user.email)


def next_label(session: Session, name: str) -> str:
    """A free version label to suggest: one more than the highest numeric label."""
    labels = session.scalars(
        sa.select(ScorecardVersion.version).where(ScorecardVersion.scorecard == name)
    ).all()
    numbers = [int(label) for label in labels if label.isdigit()]
    return str(max(numbers, default=0) + 1)


def ensure_stored(
    session: Session,
    card: Scorecard,
    text: str | None = None,
    *,
    via: str = "file",
    actor: Actor | None = None,
    note: str | None = None,
) -> tuple[ScorecardVersion, bool]:
    """The stored row of ``card``'s (name, version), stored now if new (→ created True), not in
    force. A stored version with a different definition is refused."""
    digest = digest_of(card)
    row = _find(session, card.name, card.version)
    if row is not None:
        if row.digest != digest:
            saved = f"{row.saved_at:%Y-%m-%d %H:%M} UTC"
            author = _author(session, row.saved_by_id)
            raise InvalidInput(
                f"version {card.version!r} of scorecard {card.name!r} is already stored with a "
                f"different definition (saved {saved}{' by ' + author if author else ''}); give "
                f"the changed scorecard a new version, e.g. version: "
                f'"{next_label(session, card.name)}"'
            )
        return row, False
    if text is None:
        text = yaml.safe_dump(card.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    now = utcnow()
    row = ScorecardVersion(
        scorecard=card.name,
        version=card.version,
        text=text,
        digest=digest,
        note=note,
        saved_via=actor.via if actor else via,
        saved_by_id=actor.id if actor else None,
        saved_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "scorecard.save",
        "scorecard_version",
        row.id,
        after={"scorecard": row.scorecard, "version": row.version, "note": note},
        via=None if actor else via,
    )
    return row, True


def scorecard_in_force(
    session: Session, data_dir: Path, explicit: Path | None = None, actor: Actor | None = None
) -> Scorecard:
    """The card to score with: ``explicit`` (stored if new), else the version in force.

    The data dir's ``scorecard.yaml`` (else the shipped default) is registered first; a (name,
    version) read there for the first time is put in force."""
    if explicit is not None:
        card, text = read_scorecard_file(explicit)
        ensure_stored(session, card, text, via="cli", actor=actor)
        return card
    card, text = read_scorecard_file(scorecard_path(data_dir))
    row, created = ensure_stored(session, card, text, via="file")
    if created or in_force_row(session) is None:
        _mark_in_force(session, row, None)
    current = in_force_row(session)
    return card if current is None else card_of(current)


def _mark_in_force(session: Session, row: ScorecardVersion, actor: Actor | None) -> None:
    before = in_force_row(session)
    now = utcnow()
    if before is not None and before.in_force_since is not None:
        # Keep the order strict even when two changes land within the clock's resolution
        # (SQLite hands the stored time back without its zone: it was stored in UTC).
        last = before.in_force_since.replace(tzinfo=UTC)
        now = max(now, last + timedelta(microseconds=1))
    row.in_force_since = now
    row.put_in_force_by_id = actor.id if actor else None
    session.flush()
    audit.record(
        session,
        actor,
        "scorecard.in_force",
        "scorecard_version",
        row.id,
        before=None
        if before is None
        else {"scorecard": before.scorecard, "version": before.version},
        after={"scorecard": row.scorecard, "version": row.version},
        via=None if actor else "file",
    )


def get_version(session: Session, reference: str) -> ScorecardVersion:
    """A stored version by ``version`` (within the scorecard in force, else unique among all) or
    ``name@version``."""
    reference = reference.strip()
    if "@" in reference:
        name, _, version = reference.partition("@")
        row = _find(session, name.strip(), version.strip())
        if row is None:
            raise NotFound(f"no stored scorecard {name.strip()!r} version {version.strip()!r}")
        return row
    rows = session.scalars(
        sa.select(ScorecardVersion).where(ScorecardVersion.version == reference)
    ).all()
    current = in_force_row(session)
    if current is not None:
        same_card = [r for r in rows if r.scorecard == current.scorecard]
        if same_card:
            return same_card[0]
    if len(rows) == 1:
        return rows[0]
    if not rows:
        known = ", ".join(f"{r.scorecard}@{r.version}" for r in _all(session)) or "none"
        raise NotFound(f"no stored scorecard version {reference!r}; stored: {known}")
    names = ", ".join(f"{r.scorecard}@{r.version}" for r in rows)
    raise InvalidInput(f"version {reference!r} exists in several scorecards ({names}); name one")


def _all(session: Session) -> list[ScorecardVersion]:
    return list(
        session.scalars(
            sa.select(ScorecardVersion).order_by(ScorecardVersion.saved_at, ScorecardVersion.id)
        )
    )


def _read(session: Session, row: ScorecardVersion, current_id: int | None) -> ScorecardVersionRead:
    return ScorecardVersionRead(
        id=row.id,
        scorecard=row.scorecard,
        version=row.version,
        reference=f"{row.scorecard}@{row.version}",
        note=row.note,
        saved_via=row.saved_via,
        saved_by=_author(session, row.saved_by_id),
        saved_at=row.saved_at,
        in_force=row.id == current_id,
        in_force_since=row.in_force_since,
        put_in_force_by=_author(session, row.put_in_force_by_id),
        text=row.text,
    )


def list_versions(session: Session, data_dir: Path) -> list[ScorecardVersionRead]:
    """Every stored version, newest first, the one in force marked (the data dir's card is
    registered first, so the list starts from what is scoring today)."""
    scorecard_in_force(session, data_dir)
    current = in_force_row(session)
    current_id = current.id if current else None
    return [_read(session, row, current_id) for row in reversed(_all(session))]


def read_version(session: Session, data_dir: Path, reference: str) -> ScorecardVersionRead:
    scorecard_in_force(session, data_dir)
    current = in_force_row(session)
    return _read(session, get_version(session, reference), current.id if current else None)


def save_version(
    session: Session,
    data_dir: Path,
    text: str,
    actor: Actor,
    *,
    note: str | None = None,
    source: str = "scorecard",
) -> ScorecardVersionRead:
    """Store an edited scorecard as a new version (not in force until someone puts it in force).

    Saving exactly the stored definition of its version again changes nothing."""
    require_role(actor.user, *EDITORS)
    scorecard_in_force(session, data_dir)
    card = load_scorecard_text(text, source)
    row, _ = ensure_stored(session, card, text, actor=actor, note=(note or "").strip() or None)
    current = in_force_row(session)
    return _read(session, row, current.id if current else None)


def put_in_force(
    session: Session, data_dir: Path, reference: str, actor: Actor
) -> ScorecardVersionRead:
    """Make a stored version the one the daily run scores with (from its next run on)."""
    require_role(actor.user, *EDITORS)
    scorecard_in_force(session, data_dir)
    row = get_version(session, reference)
    current = in_force_row(session)
    if current is None or current.id != row.id:
        _mark_in_force(session, row, actor)
    return _read(session, row, row.id)


def shown_version(session: Session) -> tuple[str, str] | None:
    """The (scorecard, version) whose scores the pages show: the version in force once it has
    scores on the latest scored day, else the version scored last that day (None: no scores)."""
    day = sa.select(sa.func.max(HealthScore.as_of)).scalar_subquery()
    current = in_force_row(session)
    if current is not None:
        scored = session.scalar(
            sa.select(HealthScore.id)
            .where(
                HealthScore.as_of == day,
                HealthScore.scorecard == current.scorecard,
                HealthScore.scorecard_version == current.version,
            )
            .limit(1)
        )
        if scored is not None:
            return current.scorecard, current.version
    last = session.execute(
        sa.select(HealthScore.scorecard, HealthScore.scorecard_version)
        .where(HealthScore.as_of == day)
        .order_by(HealthScore.id.desc())
        .limit(1)
    ).first()
    return None if last is None else (last[0], last[1])


def _edited_definition(card: Scorecard, edit: ScorecardEdit) -> dict[str, Any]:
    """``card`` as plain data with ``edit``'s numbers in place; names the unknown profile,
    measure or band an edit points at."""
    data = card.model_dump(mode="json", exclude_defaults=True)
    data["version"] = edit.version.strip()
    if edit.trend_tolerance is not None:
        data["trend_tolerance"] = edit.trend_tolerance
    bands = {band["name"]: band for band in data["bands"]}
    for name, floor in edit.bands.items():
        if name not in bands:
            raise InvalidInput(f"the scorecard has no band {name!r}; bands: {', '.join(bands)}")
        bands[name]["min_score"] = floor
    profiles = {profile["name"]: profile for profile in data["profiles"]}
    for change in edit.measures:
        profile = profiles.get(change.profile)
        if profile is None:
            raise InvalidInput(
                f"the scorecard has no profile {change.profile!r}; profiles: {', '.join(profiles)}"
            )
        measure = next((m for m in profile["measures"] if m["metric"] == change.metric), None)
        if measure is None:
            raise InvalidInput(f"profile {change.profile!r} does not measure {change.metric!r}")
        measure["weight"] = change.weight
        measure["thresholds"] = [t.model_dump() for t in change.thresholds]
    return data


def save_edited_version(
    session: Session, data_dir: Path, base_reference: str, edit: ScorecardEdit, actor: Actor
) -> ScorecardVersionRead:
    """A new version made from a stored one with new weights, steps, bands (the console's form).

    Problems are named in the words of the form: "Profile onboarding, License utilization:
    weights add up to 101, not 100"."""
    require_role(actor.user, *EDITORS)
    scorecard_in_force(session, data_dir)
    base = get_version(session, base_reference)
    data = _edited_definition(card_of(base), edit)
    header = (
        f"# Version {data['version']} of scorecard {base.scorecard}, edited from version "
        f"{base.version} in the console.\n"
    )
    text = header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    try:
        Scorecard.model_validate(data)
    except ValidationError as error:
        raise InvalidInput(
            "the new version was not saved:\n"
            + "\n".join(_plain_problem(data, issue) for issue in error.errors())
        ) from None
    return save_version(session, data_dir, text, actor, note=edit.note, source="edited scorecard")


def _plain_problem(data: dict[str, Any], issue: Mapping[str, Any]) -> str:
    """A validation problem as the form's reader names things: profile, measure, band."""
    location = list(issue["loc"])
    message = str(issue["msg"]).removeprefix("Value error, ")
    where = []
    if location[:1] == ["profiles"] and len(location) > 1 and isinstance(location[1], int):
        profile = data["profiles"][location[1]]
        where.append(f"Profile {profile['name']}")
        message = message.removeprefix(f"profile {profile['name']!r}: ")
        if location[2:3] == ["measures"] and len(location) > 3 and isinstance(location[3], int):
            slug = profile["measures"][location[3]]["metric"]
            where.append(get_metric(slug).name)
            message = message.removeprefix(f"{slug}: ")
    elif location[:1] == ["bands"]:
        where.append("Bands")
    elif location[:1] == ["version"]:
        where.append("Version")
    return f"{', '.join(where)}: {message}" if where else message


SHOWN_UNITS = {Unit.share: ("%", 100.0), Unit.change: ("%", 100.0), Unit.days: ("days", 1.0)}


def editor_view(card: Scorecard) -> list[ProfileForm]:
    """The card's profiles and measures as the console's editor shows them."""
    forms = []
    for profile in card.profiles:
        measures = []
        for m in profile.measures:
            metric = get_metric(m.metric)
            unit, scale = SHOWN_UNITS.get(metric.unit, ("", 1.0))
            measures.append(
                MeasureForm(
                    metric=m.metric,
                    name=metric.name,
                    why=m.why,
                    weight=m.weight,
                    comparison="at least"
                    if m.direction is Direction.higher_is_better
                    else "at most",
                    unit=unit,
                    scale=scale,
                    steps=[(round(t.at * scale, 6), t.points) for t in m.thresholds],
                )
            )
        forms.append(
            ProfileForm(name=profile.name, description=profile.description, measures=measures)
        )
    return forms
