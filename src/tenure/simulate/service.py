"""Run a simulation into files (``--out DIR``) or into the configured stores.

Files: ``DIR/<entity>.parquet`` per operational entity, ``DIR/events/event_date=…/`` partitions,
``DIR/truth/`` and ``DIR/simulation.json`` (config, its hash, counts).
Stores: rows are staged under the data dir, bulk-inserted into the database in one transaction,
then the event partitions are moved into the event store; truth goes to ``<data_dir>/truth/`` and
the run's metadata to ``<data_dir>/simulation.json``. A store that already holds accounts or
events is refused: simulated data never mixes with real data.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from tenure.config import Settings
from tenure.errors import Conflict
from tenure.simulate.config import SimulationConfig
from tenure.simulate.crm_load import load_crm_records, load_rates
from tenure.simulate.engine import finish, run
from tenure.simulate.interventions import Interventions
from tenure.simulate.state import SimulationState
from tenure.simulate.writers import (
    DatabaseLoader,
    EventFiles,
    Spools,
    copy_events,
    move_events,
    snapshot_time,
)
from tenure.store.events import EventStore, open_event_store

Progress = Callable[[int, int], None]
META_FILE = "simulation.json"


@dataclass(frozen=True)
class SimulationResult:
    config_hash: str
    seed: int
    start: date
    as_of: date
    events: int
    rows: dict[str, int]
    seconds: float
    location: Path
    truth_dir: Path


def _run(
    config: SimulationConfig,
    staging: Path,
    truth_dir: Path,
    *,
    keep_hidden: bool,
    progress: Progress | None,
    interventions: Interventions | None = None,
) -> tuple[SimulationState, dict[str, Any], dict[str, int]]:
    spools = Spools(staging, keep_hidden=keep_hidden)
    write_events: Callable[[pa.Table], None]
    if keep_hidden:  # staged for the stores: the event store's own durable bulk write
        store = EventStore(staging)

        def write_events(table: pa.Table) -> None:
            store.write_parquet(table, dedupe=False)  # ids are unique by construction

    else:
        write_events = EventFiles(staging / "events").write
    sim = SimulationState(config, spools, truth_dir, write_events, interventions)
    run(sim, progress)
    meta: dict[str, Any] = {
        "config_hash": config.hash(),
        "seed": config.seed,
        "start": sim.calendar.start.isoformat(),
        "as_of": config.as_of.isoformat(),
        "accounts": config.accounts,
        "events": sim.counts.events,
    }
    if interventions is not None and len(interventions):  # what the company knows: who got plays
        meta["interventions"] = {
            "file": interventions.source,
            "rows": len(interventions),
            "digest": interventions.digest(),
        }
    finish(sim, meta)
    rows = spools.close()
    meta = meta | {"rows": rows, "config": config.dump()}
    return sim, meta, rows


def _write_meta(folder: Path, meta: dict[str, Any]) -> None:
    (folder / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True))


def read_meta(folder: Path) -> dict[str, Any] | None:
    """The metadata of the simulation stored in ``folder`` (a data dir or an --out dir), if any."""
    path = folder / META_FILE
    return json.loads(path.read_text()) if path.exists() else None


def _result(meta: dict[str, Any], started: float, location: Path, truth: Path) -> SimulationResult:
    return SimulationResult(
        config_hash=meta["config_hash"],
        seed=meta["seed"],
        start=date.fromisoformat(meta["start"]),
        as_of=date.fromisoformat(meta["as_of"]),
        events=meta["events"],
        rows=meta["rows"],
        seconds=time.perf_counter() - started,
        location=location,
        truth_dir=truth,
    )


def simulate_to_files(
    config: SimulationConfig,
    out: Path,
    progress: Progress | None = None,
    interventions: Interventions | None = None,
) -> SimulationResult:
    if out.exists() and any(out.iterdir()):
        raise Conflict(f"{out}: not empty; give --out a new or empty folder")
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    _, meta, _ = _run(
        config,
        out,
        out / "truth",
        keep_hidden=False,
        progress=progress,
        interventions=interventions,
    )
    _write_meta(out, meta)
    return _result(meta, started, out, out / "truth")


def simulate_into_stores(
    config: SimulationConfig,
    settings: Settings,
    progress: Progress | None = None,
    interventions: Interventions | None = None,
) -> SimulationResult:
    from tenure.store.database import create_engine
    from tenure.store.migrate import is_current, upgrade

    data_dir = settings.data_dir
    events = open_event_store(settings)
    if events.stats().events:
        raise Conflict(
            f"{events.location} already holds events: simulate into a fresh data dir "
            "(TENURE_DATA_DIR) or write files with --out DIR"
        )
    engine = create_engine(settings.resolved_database_url)
    try:
        if not is_current(engine):
            upgrade(engine)
        loader = DatabaseLoader(
            engine, data_dir / "simulation-staging", snapshot_time(config.as_of)
        )
        loader.refuse_if_not_empty()
        started = time.perf_counter()
        staging = loader.staging
        truth = data_dir / "truth"
        for stale in (staging, truth):
            shutil.rmtree(stale, ignore_errors=True)
        try:
            _, meta, _ = _run(
                config,
                staging,
                truth,
                keep_hidden=True,
                progress=progress,
                interventions=interventions,
            )
            loader.load()
            load_crm_records(engine, staging)
            meta["rows"]["fx_rates"] = load_rates(engine, config)
            if events.is_postgres:
                copy_events(staging / "events", events)
            else:
                move_events(staging / "events", events.parquet_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        _write_meta(data_dir, meta)
        return _result(meta, started, data_dir, truth)
    finally:
        engine.dispose()
