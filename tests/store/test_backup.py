"""`tenure backup` / `tenure restore` (issue 16.15): a restored copy of a running base reads the
same — identical `tenure status --json` (but for where it lives) and identical metrics."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tenure.cli.main import app
from tenure.config import Settings
from tenure.errors import Conflict
from tenure.simulate import simulate_into_stores
from tenure.store.backup import MANIFEST, backup, restore
from tenure.store.events import open_event_store
from tests.simulate.conftest import tiny_config
from tests.store.conftest import read_all
from tests.store.factories import event

AS_OF = "2026-11-01"
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
# Where a base lives, not what it holds: these differ between the original and the restore.
LOCATION_FIELDS = ("database", "data_dir", "event_store")


def cli(data_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"TENURE_DATA_DIR": str(data_dir)})
    assert result.exit_code == 0, result.output
    return result.output


def status(data_dir: Path) -> dict[str, Any]:
    report = json.loads(cli(data_dir, "status", "--json"))
    return {k: v for k, v in report.items() if k not in LOCATION_FIELDS}


def metrics(data_dir: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        cli(data_dir, "metrics", "compute", "--full", "--as-of", AS_OF, "--json")
    )["rows"]
    return rows


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny simulated base with events both compacted (Parquet) and still in the inbox."""
    data_dir = tmp_path_factory.mktemp("original")
    settings = Settings(data_dir=data_dir)
    simulate_into_stores(tiny_config(as_of=date.fromisoformat(AS_OF)), settings)
    store = open_event_store(settings)
    store.append([*(event(f"late-{i}", day=date(2026, 10, 31), hour=i) for i in range(5))])
    store.close()
    cli(data_dir, "metrics", "compute", "--full", "--as-of", AS_OF)
    return data_dir


def test_a_restored_backup_reads_the_same(base: Path, tmp_path: Path) -> None:
    before = status(base), metrics(base)
    assert before[0]["events"] > 1000 and before[0]["inbox_pending"] == 5 and len(before[1]) > 10
    cli(base, "backup", str(tmp_path / "backup"))
    restored = tmp_path / "restored"
    cli(restored, "restore", str(tmp_path / "backup"))
    assert (status(restored), metrics(restored)) == before


def test_restore_refuses_a_target_with_data_unless_forced(base: Path, tmp_path: Path) -> None:
    cli(base, "backup", str(tmp_path / "backup"))
    target = tmp_path / "target"
    target.mkdir()
    (target / "tenure.db").write_text("someone's data")
    refused = CliRunner().invoke(
        app, ["restore", str(tmp_path / "backup")], env={"TENURE_DATA_DIR": str(target)}
    )
    assert refused.exit_code == 1 and "--force" in refused.output
    assert (target / "tenure.db").read_text() == "someone's data"
    cli(target, "restore", "--force", str(tmp_path / "backup"))
    assert status(target) == status(base)


def test_backup_refuses_a_folder_with_files_and_restore_an_incomplete_backup(
    base: Path, tmp_path: Path
) -> None:
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "x").write_text("")
    with pytest.raises(Conflict, match="not empty"):
        backup(Settings(data_dir=base), occupied, now=NOW)
    done = tmp_path / "done"
    backup(Settings(data_dir=base), done, now=NOW)
    (done / MANIFEST).unlink()  # as if the backup had been interrupted
    with pytest.raises(Exception, match="is missing"):
        restore(Settings(data_dir=tmp_path / "fresh"), done)


def test_compaction_waits_for_a_backup_and_each_event_is_restored_once(tmp_path: Path) -> None:
    original = Settings(data_dir=tmp_path / "original")
    store = open_event_store(original)
    store.append([event("m1"), event("m2")])
    store.compact(now=NOW)  # m1, m2 in Parquet
    store.append([event("m3")])  # m3 waits in the inbox
    refused: list[str] = []

    def compact_meanwhile() -> None:
        with pytest.raises(Conflict) as error:
            open_event_store(original).compact(now=NOW)
        refused.append(str(error.value))

    backup(original, tmp_path / "backup", now=NOW, during_events=compact_meanwhile)
    assert refused and "holds" in refused[0]
    store.compact(now=NOW)  # after the backup: m3 moves to Parquet in the original only
    copy = Settings(data_dir=tmp_path / "copy")
    restore(copy, tmp_path / "backup")
    restored = open_event_store(copy)
    assert [e["message_id"] for e in read_all(restored)] == ["m1", "m2", "m3"]
    assert restored.stats().pending == 1  # still in the inbox, as when the backup was taken
    restored.compact(now=NOW)
    assert [e["message_id"] for e in read_all(restored)] == ["m1", "m2", "m3"]


def test_backup_on_postgresql_says_to_use_pg_dump(
    backend: str, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    if backend == "sqlite":
        report = backup(settings, tmp_path / "backup", now=NOW)
        assert report.files >= 1 and (tmp_path / "backup" / "tenure.db").stat().st_size > 0
        return
    with pytest.raises(Conflict, match="pg_dump") as refused:
        backup(settings, tmp_path / "backup", now=NOW)
    assert "docs/deploy.md" in str(refused.value)
    assert not (tmp_path / "backup").exists()
