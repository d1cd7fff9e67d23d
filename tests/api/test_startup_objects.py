"""What the server loaded at start is left out of later garbage collections (issue 19.8): a CSV
export of thousands of rows sets off full collections, and each walked every module, route and
template loaded (~390,000 objects) — half the export's CPU at 10,000 accounts."""

from __future__ import annotations

import gc
import warnings
from pathlib import Path

from tenure.config import Settings
from tenure.server import create_app

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
