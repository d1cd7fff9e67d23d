"""The simulated exports brought in through a customer's doors: the CS team created as an admin
creates users, every file through its shipped mapping (good rows kept, bad ones reported), and
the product usage replayed through the Segment-spec ``/v1/batch`` endpoint of a running server.

The demo and the direct-versus-doors test both enter this way, so neither can pass around a door.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

from tenure.auth.schemas import UserCreate
from tenure.auth.service import create_user, find_user
from tenure.errors import InvalidInput
from tenure.ingest.importer import import_records
from tenure.ingest.mappings import load_mapping
from tenure.ingest.request import ImportReport, ImportRequest
from tenure.ingest.runs import record_run, write_rejects
from tenure.model.base import utcnow
from tenure.simulate.exports import DOORS, USAGE_FILE, USERS_FILE

# A batch well under the endpoint's 8 MiB (inflated) limit; Segment's own libraries send 500 KB.
BATCH_BYTES = 4 << 20


@dataclass(frozen=True)
class DoorReport:
    path: Path
    report: ImportReport
    rejects_file: Path | None


def create_team(session: Session, folder: Path) -> int:
    """The CS team as `tenure users create` makes it (managers first); returns users created."""
    created = 0
    for line in (folder / USERS_FILE).read_text(encoding="utf-8").splitlines():
        user = json.loads(line)
        if find_user(session, user["email"]) is not None:
            continue
        manager = find_user(session, user["manager_email"]) if user["manager_email"] else None
        data = UserCreate(
            email=user["email"],
            name=user["name"],
            role=user["role"],
            manager_id=manager.id if manager else None,
        )
        create_user(session, data, None)
        created += 1
    return created


def import_exports(session: Session, folder: Path) -> list[DoorReport]:
    """Every exported file through its door, in ``DOORS`` order, with ``--skip-invalid``: the
    good rows are stored, the refused ones written to ``<file>.rejects.csv`` beside the file."""
    reports = []
    for name, (entity, mapping) in DOORS.items():
        path = folder / name
        request = ImportRequest(
            entity, path, load_mapping(mapping) if mapping else None, skip_invalid=True
        )
        started_at = utcnow()
        report = import_records(session, request)
        record_run(session, report, started_at=started_at)
        rejects_file = None
        if report.rejects:
            rejects_file = path.with_name(f"{path.stem}.rejects.csv")
            write_rejects(rejects_file, report.rejects)
        reports.append(DoorReport(path, report, rejects_file))
    return reports


@dataclass(frozen=True)
class Replay:
    """What the Segment endpoint was sent: messages, requests and the time it took."""

    messages: int
    requests: int
    gzipped_bytes: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.messages / max(self.seconds, 1e-9)


def _batches(path: Path, limit: int) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    size = 0
    with open(path, "rb") as handle:
        for line in handle:
            line = line.rstrip(b"\n")
            if batch and size + len(line) > limit:
                yield batch
                batch, size = [], 0
            batch.append(line)
            size += len(line) + 1
    if batch:
        yield batch


def replay_usage(
    folder: Path, url: str, write_key: str, *, batch_bytes: int = BATCH_BYTES
) -> Replay:
    """POST the usage file to ``url``/v1/batch, gzipped, as an analytics library would; every
    request must be answered exactly 200 (the endpoint quarantines bad messages, never drops a
    batch)."""
    started = time.perf_counter()
    messages = requests = sent = 0
    with httpx.Client(base_url=url, auth=(write_key, ""), timeout=120) as client:
        for batch in _batches(folder / USAGE_FILE, batch_bytes):
            sent_at = datetime.now(UTC).isoformat().encode()
            body = gzip.compress(
                b'{"batch":[' + b",".join(batch) + b'],"sentAt":"' + sent_at + b'"}',
                compresslevel=1,
            )
            response = client.post(
                "/v1/batch",
                content=body,
                headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
            )
            if response.status_code != 200:
                raise InvalidInput(
                    f"/v1/batch answered {response.status_code} to request {requests + 1}: "
                    f"{response.text[:300]}"
                )
            messages += len(batch)
            requests += 1
            sent += len(body)
    return Replay(messages, requests, sent, time.perf_counter() - started)
