"""`tenure serve` runs the daily job on its schedule, in a background worker process: a live
server whose schedule is due runs the day once, shows it under /api/v1, and a restart runs
nothing again."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tenure.auth.service import create_api_token
from tenure.http.live import free_port
from tenure.jobs.worker import worker_seen_at
from tenure.model import UserRole
from tenure.model.base import utcnow
from tenure.store.database import create_engine, session_factory, session_scope
from tests import factories as f

TENURE = str(Path(sys.executable).parent / "tenure")


@contextmanager
def tenure_serve(env: dict[str, str], log: Path) -> Iterator[str]:
    """`tenure serve` itself (the app and its background processes) on a free loopback port."""
    port = free_port()
    with open(log, "ab") as output:
        server = subprocess.Popen(
            [TENURE, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(f"{url}/login"), "tenure serve to listen", log)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url).status_code == 200
    except httpx.TransportError:
        return False


def wait_for(condition: Callable[[], Any], what: str, log: Path, seconds: float = 120) -> Any:
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}:\n{log.read_text()}"
        time.sleep(0.25)
    return value


@pytest.mark.slow
def test_serve_runs_the_due_day_once_and_not_again_after_a_restart(
    database_url: str, tmp_path: Path
) -> None:
    engine = create_engine(database_url)
    with session_scope(session_factory(engine)) as session:
        manager = f.user(session, email="max@example.com", role=UserRole.manager)
        acme = f.account(session, external_id="acme", owner=manager)
        f.contract(session, acme, arr=50_000, ends_on=utcnow().date() + timedelta(days=60))
        token = create_api_token(session, manager.id, "schedule test", None).token
    engine.dispose()
    data_dir = tmp_path / "data"
    env = {
        "TENURE_DATABASE_URL": database_url,
        "TENURE_DATA_DIR": str(data_dir),
        "TENURE_SECRET_KEY": "schedule-test-secret-of-32-chars-or-more",
        "TENURE_DAILY_AT": "00:00",  # due as soon as the worker's first tick comes
        "TENURE_WORKER_EVERY": "1",
        "TENURE_REFRESH_EVERY": "0",
    }
    auth = {"Authorization": f"Bearer {token}"}
    log = tmp_path / "serve.log"
    today = utcnow().date()

    def finished_runs(url: str) -> list[dict[str, Any]]:
        runs = httpx.get(f"{url}/api/v1/daily-runs", headers=auth).json()
        return [r for r in runs if r["status"] != "running"]

    with tenure_serve(env, log) as url:
        (run,) = wait_for(lambda: finished_runs(url), "the scheduled daily run", log)
        assert (run["as_of"], run["status"], run["attempts"]) == (today.isoformat(), "succeeded", 1)
        assert [s["name"] for s in run["steps"]] == [
            "metrics",
            "health",
            "risk",
            "milestones",
            "lifecycle",
            "judgements",
            "message_goals",
            "churn",
            "kpis",
            "maturity",
            "ebr_peers",
            "facts",
            "rules",
            "follow_ups",
            "renewal_forecast",
            "family_ranking",
            "outbox",
            "webhooks",
        ]
        ctas = httpx.get(f"{url}/api/v1/ctas", headers=auth).json()
        # No usage at all: Acme's health is red, and its renewal is 60 days away.
        assert sorted(c["rule_key"] for c in ctas) == ["health_red", "renewal_preparation"]
        assert run["counts"]["rules"] == {"created": 2}
        # No model fitted here: the risk step says so on the run instead of failing it.
        assert run["skipped"] == [
            {
                "step": "risk",
                "reason": "no churn model fitted yet; run `tenure model fit` first; until then "
                "churn risk is not scored and no risk.raised is sent",
            }
        ]
        plan = httpx.get(f"{url}/api/v1/daily-runs/schedule", headers=auth).json()
        assert plan["enabled"] and plan["daily_at"] == "00:00:00"
        assert plan["next_as_of"] == (today + timedelta(days=1)).isoformat()
        assert plan["next_run_at"].startswith(f"{today + timedelta(days=1)}T00:00:00")
        assert plan["worker_seen_at"] is not None
        ticks_after(data_dir, utcnow(), 2, log)  # later ticks find the day done
        assert len(finished_runs(url)) == 1

    restarted_at = utcnow()
    with tenure_serve(env, log) as url:
        ticks_after(data_dir, restarted_at, 3, log)
        (again,) = finished_runs(url)
        assert (again["id"], again["attempts"]) == (run["id"], 1)  # not run a second time


def ticks_after(data_dir: Path, moment: datetime, ticks: int, log: Path) -> None:
    """Wait until the worker has ticked ``ticks`` times (1 s apart) after ``moment``."""
    wait_for(
        lambda: (
            (seen := worker_seen_at(data_dir)) is not None
            and seen > moment + timedelta(seconds=ticks - 1)
        ),
        f"{ticks} worker ticks",
        log,
    )
