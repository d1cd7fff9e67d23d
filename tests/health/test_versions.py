"""Scorecard versions are stored definitions: saved with who and when, put in force, kept apart
when a day is rescored, and compared like with like."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.auth.permissions import Actor
from tenure.errors import Forbidden, InvalidInput
from tenure.health.service import explain_account, latest_scores, score_day, score_history
from tenure.health.versions import (
    DEFAULT_SCORECARD,
    list_versions,
    put_in_force,
    save_version,
    scorecard_in_force,
    shown_version,
)
from tenure.model import AuditLog, HealthScore, ScorecardVersion, UserRole
from tests import factories
from tests.metrics.conftest import insert_fixture
from tests.metrics.fixtures import AS_OF

DEFAULT_TEXT = DEFAULT_SCORECARD.read_text()
# Version 3: the same card with a stricter green band (75 → 80) and its own label.
V2_TEXT = DEFAULT_TEXT.replace('version: "2"', 'version: "3"').replace(
    "{name: green, min_score: 75}", "{name: green, min_score: 80}"
)


def _actor(session: Session, role: UserRole, email: str) -> Actor:
    return Actor(factories.user(session, email=email, name=email.split("@")[0], role=role), "web")


def test_a_saved_version_keeps_its_definition_author_and_time(
    session: Session, data_dir: Path
) -> None:
    manager = _actor(session, UserRole.manager, "mia@example.com")
    # The data dir has no scorecard.yaml: the shipped default is registered and in force.
    assert scorecard_in_force(session, data_dir).version == "2"
    saved = save_version(session, data_dir, V2_TEXT, manager, note="green means greener")
    assert (saved.reference, saved.saved_by, saved.note, saved.in_force) == (
        "default@3",
        "mia",
        "green means greener",
        False,
    )
    assert saved.text == V2_TEXT
    listed = list_versions(session, data_dir)
    assert [(v.reference, v.in_force, v.saved_via) for v in listed] == [
        ("default@3", False, "web"),
        ("default@2", True, "file"),
    ]
    # Saving the very same definition again stores nothing new.
    save_version(session, data_dir, V2_TEXT + "\n# a comment\n", manager)
    assert session.scalar(sa.select(sa.func.count()).select_from(ScorecardVersion)) == 2
    # The label "3" now means one definition: another one under it is refused, with a way out.
    changed = V2_TEXT.replace("trend_tolerance: 3", "trend_tolerance: 5")
    with pytest.raises(InvalidInput) as refused:
        save_version(session, data_dir, changed, manager)
    assert "version '3' of scorecard 'default' is already stored with a different definition" in (
        refused.value.message
    )
    assert 'by mia); give the changed scorecard a new version, e.g. version: "4"' in (
        refused.value.message
    )

    put_in_force(session, data_dir, "3", manager)
    card = scorecard_in_force(session, data_dir)
    assert (card.version, card.band_for(78)) == ("3", "yellow")
    actions = session.scalars(
        sa.select(AuditLog.action)
        .where(AuditLog.entity == "scorecard_version")
        .order_by(AuditLog.id)
    ).all()
    assert actions == [
        "scorecard.save",
        "scorecard.in_force",
        "scorecard.save",
        "scorecard.in_force",
    ]


def test_only_admins_and_managers_change_the_scorecard(session: Session, data_dir: Path) -> None:
    csm = _actor(session, UserRole.csm, "cleo@example.com")
    with pytest.raises(Forbidden, match="this needs the role admin, manager"):
        save_version(session, data_dir, V2_TEXT, csm)
    with pytest.raises(Forbidden):
        put_in_force(session, data_dir, "2", csm)


def test_a_bad_definition_names_its_line(session: Session, data_dir: Path) -> None:
    admin = _actor(session, UserRole.admin, "ada@example.com")
    broken = V2_TEXT.replace("weight: 25", "weight: 26", 1)
    with pytest.raises(InvalidInput) as refused:
        save_version(session, data_dir, broken, admin, source="edited")
    # line 36 of default_scorecard.yaml: the onboarding profile's first measure
    assert refused.value.message.splitlines()[1] == (
        "edited:36: profiles.0.measures.0: license_utilization: the best threshold must earn "
        "the full weight 26, not 25"
    )


@pytest.mark.slow
def test_rescoring_with_a_new_version_keeps_the_old_scores_and_trends_compare_like_with_like(
    session: Session, data_dir: Path
) -> None:
    store = insert_fixture(session, data_dir)
    admin = _actor(session, UserRole.admin, "ada@example.com")
    v1 = scorecard_in_force(session, data_dir)
    earlier = AS_OF - timedelta(days=7)
    score_day(session, store, earlier, v1)
    first = {s.account_external_id: s for s in score_day(session, store, AS_OF, v1)}
    save_version(session, data_dir, V2_TEXT, admin)
    put_in_force(session, data_dir, "3", admin)
    v2 = scorecard_in_force(session, data_dir)
    second = {s.account_external_id: s for s in score_day(session, store, AS_OF, v2)}

    kept = session.execute(
        sa.select(HealthScore.scorecard_version, sa.func.count())
        .where(HealthScore.as_of == AS_OF)
        .group_by(HealthScore.scorecard_version)
        .order_by(HealthScore.scorecard_version)
    ).all()
    assert kept == [("2", 3), ("3", 3)]  # version 2's scores of the day survive
    # v1 on AS_OF compares with v1 a week earlier; v2 has no earlier v2 score: "new", not a
    # move against v1
    assert first["acme"].previous_score is not None
    assert {(s.trend, s.previous_score) for s in second.values()} == {("new", None)}
    # Same measures, stricter green: the score is the same, the band may differ.
    assert {k: s.score for k, s in second.items()} == {k: s.score for k, s in first.items()}

    # The pages read the version in force; an earlier version stays readable by name.
    assert shown_version(session) == ("default", "3")
    assert {s.scorecard_version for s in latest_scores(session)} == {"3"}
    assert [h.as_of for h in score_history(session, "acme")] == [AS_OF]
    old = score_history(session, "acme", ("default", "2"))
    assert [h.as_of for h in old] == [earlier, AS_OF]
    assert explain_account(session, "acme", version=("default", "2")) == first["acme"]


def test_a_backtest_asked_for_is_recorded_run_and_its_state_told(
    session: Session, data_dir: Path
) -> None:
    """The console asks for a backtest (recorded, queued, run in the background); asking again
    while it waits returns the same one; a run marks it done with the pair's result; a failure
    keeps its reason; one left queued for over an hour is said to have been abandoned."""
    from tenure.health import compare_service
    from tenure.model import ScorecardBacktest

    store = insert_fixture(session, data_dir)
    manager = _actor(session, UserRole.manager, "mia@example.com")
    save_version(session, data_dir, V2_TEXT, manager)
    run = compare_service.request_backtest(session, data_dir, "2", "3", manager)
    assert (run.base, run.candidate, run.status, run.requested_by) == (
        "default@2",
        "default@3",
        "queued",
        "mia",
    )
    assert compare_service.request_backtest(session, data_dir, "2", "3", manager).id == run.id
    with pytest.raises(InvalidInput, match="against itself tells nothing"):
        compare_service.request_backtest(session, data_dir, "3", "3", manager)

    compare_service.mark_running(session, run.id)
    versions_ = {r.version: r.id for r in session.scalars(sa.select(ScorecardVersion))}
    running = compare_service.latest_backtest(session, versions_["2"], versions_["3"])
    assert running is not None and running.status == "running" and running.started_at
    compare_service.run_backtest(session, store, run.id)
    done = compare_service.latest_backtest(session, versions_["2"], versions_["3"])
    assert done is not None and done.status == "done" and done.finished_at
    kept = compare_service.stored_comparison(session, versions_["2"], versions_["3"])
    assert kept is not None and kept.run_by == "mia" and kept.verdict

    # Done: a new ask is a new run; it fails with its reason kept.
    again = compare_service.request_backtest(session, data_dir, "2", "3", manager)
    assert again.id != run.id and again.status == "queued"
    compare_service.mark_failed(session, again.id, "no contracts to judge")
    failed = compare_service.latest_backtest(session, versions_["2"], versions_["3"])
    assert failed is not None and (failed.status, failed.error) == (
        "failed",
        "no contracts to judge",
    )
    late = compare_service.request_backtest(session, data_dir, "2", "3", manager)
    row = session.get(ScorecardBacktest, late.id)
    assert row is not None
    row.requested_at -= timedelta(hours=2)
    session.flush()
    abandoned = compare_service.latest_backtest(session, versions_["2"], versions_["3"])
    assert abandoned is not None and abandoned.status == "abandoned"
    # An abandoned run does not block a new ask.
    assert compare_service.request_backtest(session, data_dir, "2", "3", manager).id != late.id
