"""Group commit is durable: every append acknowledged before a `kill -9` is in the inbox after it.

A child process appends from 8 threads at once (their appends share SQLite transactions) and
prints each acknowledged batch's message ids only after ``append`` returned; the parent kills it
with SIGKILL mid-run — no shutdown, no flush — and then reads the inbox.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

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
            ids = [f"t{thread}-{n}-{i}" for i in range(20)]
            inbox.append(events_table_from_rows(
                {"message_id": m, "source": "crash", "type": "track", "event": "report",
                 "timestamp": moment, "received_at": moment} for m in ids))
            with out:
                print(" ".join(ids), flush=True)

    for thread in range(8):
        threading.Thread(target=send, args=(thread,)).start()
    """
)


def test_acknowledged_appends_survive_kill_9(data_dir: Path) -> None:
    path = data_dir / "inbox.db"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    acknowledged: list[str] = []
    for line in child.stdout:
        acknowledged.extend(line.split())
        if len(acknowledged) >= 2_000:
            break
    os.kill(child.pid, signal.SIGKILL)  # mid-run: other threads are inside a commit
    child.wait()
    # Lines already printed before the kill are acknowledgements too.
    acknowledged.extend(child.stdout.read().split())
    stored = set(Inbox(path).pending().events["message_id"].to_pylist())
    assert len(acknowledged) >= 2_000
    assert set(acknowledged) <= stored
