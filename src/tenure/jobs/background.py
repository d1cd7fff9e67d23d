"""Background processes beside ``tenure serve`` and the locks that keep their work single.

Scheduled work never runs inside a web request: ``serve`` spawns each job (the intraday refresh,
the worker) in a child process that stops with the server, even when the server is killed with
SIGKILL. Jobs that must not run twice on one data folder hold an ``flock`` on a file there; the
operating system releases it when the holder dies, so a crashed job never blocks the next one.
"""

from __future__ import annotations

import fcntl
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def exclusive(path: Path) -> Iterator[bool]:
    """Hold an exclusive lock on ``path`` while the block runs; yields False (holding nothing)
    when another process has it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _child(name: str, job: Callable[..., None], args: tuple[Any, ...], parent: int) -> None:
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {name}: %(message)s")
    stop = threading.Event()

    def orphaned() -> None:  # the server was killed (even with SIGKILL): stop with it
        while not stop.wait(1):
            if os.getppid() != parent:
                stop.set()

    threading.Thread(target=orphaned, daemon=True).start()
    job(*args, stop=stop)


def start_child(
    name: str, job: Callable[..., None], *args: Any
) -> multiprocessing.process.BaseProcess:
    """Run ``job(*args, stop=threading.Event)`` in a spawned child process named ``name``; the
    event is set when the parent process is gone."""
    process = multiprocessing.get_context("spawn").Process(
        target=_child, args=(name, job, args, os.getpid()), daemon=True, name=name
    )
    process.start()
    return process
