"""What the server loaded at start is left out of later garbage collections (issue 19.8): a CSV
export of thousands of rows sets off full collections, and each walked every module, route and
template loaded (~390,000 objects) — half the export's CPU at 10,000 accounts."""

from __future__ import annotations

import gc
import warnings
from pathlib import Path

from tenure.config import Settings
from tenure.server import WarmObjectsFreezer, create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's TestClient deprecation note (see web fixtures)
    from fastapi.testclient import TestClient


def test_the_started_app_is_frozen_out_of_garbage_collection(
    database_url: str, data_dir: Path
) -> None:
    gc.unfreeze()
    app = create_app(Settings(database_url=database_url, data_dir=data_dir))
    assert gc.get_freeze_count() == 0
    try:
        with TestClient(app) as client:
            assert gc.get_freeze_count() > 100_000
            # The app's own objects are among them: a collection no longer walks them.
            assert not any(o is app.router for o in gc.get_objects())
            assert client.get("/healthz").status_code == 200
        frozen = gc.get_freeze_count()
        with TestClient(create_app(Settings(database_url=database_url, data_dir=data_dir))):
            assert gc.get_freeze_count() <= frozen  # once a process: later apps stay collectable
    finally:
        gc.unfreeze()


def test_what_warm_requests_leave_behind_is_frozen_after_a_full_collection() -> None:
    freezer = WarmObjectsFreezer(times=2, survivors=20_000)
    kept: list[list[object]] = []
    enabled = gc.isenabled()
    gc.disable()  # only the collections below
    try:
        gc.collect()
        gc.freeze()  # the test process's own objects: out of the count
        gc.callbacks.append(freezer)
        kept.append([[] for _ in range(30_000)])  # what a first request leaves: long-lived
        gc.collect()
        assert freezer.left == 1
        assert len(gc.get_objects(generation=2)) == 0  # the next full collection walks none
        kept.append([[] for _ in range(10_000)])
        gc.collect()  # too few survivors since: nothing frozen
        assert freezer.left == 1 and len(gc.get_objects(generation=2)) >= 10_000
        kept.append([[] for _ in range(30_000)])
        gc.collect()
        assert freezer.left == 0
        frozen = gc.get_freeze_count()
        kept.append([[] for _ in range(30_000)])
        gc.collect()  # bounded: no more freezing
        assert gc.get_freeze_count() == frozen
    finally:
        gc.callbacks.remove(freezer)
        gc.unfreeze()
        if enabled:
            gc.enable()
