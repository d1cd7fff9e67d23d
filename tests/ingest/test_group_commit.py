"""Group commit is durable: every append acknowledged before a `kill -9` is in the inbox after it.

A child process (or two, as under ``--workers 2``) appends from 8 threads at once (their appends
share SQLite transactions) and prints each acknowledged batch's message ids only after ``append``
returned; the parent kills it with SIGKILL mid-run — no shutdown, no flush — and then reads the
inbox.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tenure.store.events.inbox import Inbox

CHILD = textwrap.dedent(
    """
    import sys, threading
    from datetime import UTC, datetime
    from pathlib import Path
    from tenure.store.events import events_table_from_rows
    from tenure.store.events.inbox import Inbox

    inbox = Inbox(Path(sys.argv[1]))
    moment = datetime(2025, 3, 31, tzinfo=UTC)
    out = threading.Lock()

    def send(thread):
        for n in range(100_000):
            ids = [f"{sys.argv[2]}t{thread}-{n}-{i}" for i in range(20)]
            inbox.append(
                [{"message_id": m, "source": "crash", "type": "track", "event": "report",
                  "timestamp": moment, "received_at": moment} for m in ids])
            with out:
                print(" ".join(ids), flush=True)

    for thread in range(8):
        threading.Thread(target=send, args=(thread,)).start()
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("processes", [1, 2])
def test_acknowledged_appends_survive_kill_9(data_dir: Path, processes: int) -> None:
    """Two processes stand for ``tenure serve --workers 2``: both append to one inbox."""
    path = data_dir / "inbox.db"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), f"p{n}"], stdout=subprocess.PIPE, text=True
        )
        for n in range(processes)
    ]
    acknowledged: list[str] = []
    for child in children:
        assert child.stdout is not None
        for line in child.stdout:
            acknowledged.extend(line.split())
            if len(acknowledged) >= 2_000 * (children.index(child) + 1):
                break
    for child in children:
        os.kill(child.pid, signal.SIGKILL)  # mid-run: other threads are inside a commit
    for child in children:
        child.wait()
        assert child.stdout is not None
        # Lines already printed before the kill are acknowledgements too.
        acknowledged.extend(child.stdout.read().split())
    stored = set(Inbox(path).pending().events["message_id"].to_pylist())
    assert len(acknowledged) >= 2_000 * processes
    assert {m[:2] for m in acknowledged} == {f"p{n}" for n in range(processes)}
    assert set(acknowledged) <= stored
