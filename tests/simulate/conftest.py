"""A tiny simulated customer base shared by the simulator's tests (files mode, fixed seed).

Runs write under /dev/shm when the machine has it: the event store fsyncs every daily partition,
which on a disk costs more than simulating the day, and durability is not what these tests check.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tenure.simulate import SimulationConfig, load_config, simulate_to_files

# Four months: the installed base's terms and the monthly subscriptions come up for renewal.
# Smaller books and frequent reassignment so a base this small still moves accounts between CSMs.
TINY: dict[str, Any] = {
    "accounts": 60,
    "months": 4,
    "seed": 11,
    "segments": {"smb": {"accounts_per_csm": 12}, "mid_market": {"accounts_per_csm": 6}},
    "relationships": {"csm_reassign_annual": 0.6},
}


def tiny_config(**overrides: Any) -> SimulationConfig:
    return load_config("demo", overrides=TINY | overrides)


@pytest.fixture(scope="session")
def fast_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    shm = Path("/dev/shm")
    if shm.is_dir():
        folder = Path(tempfile.mkdtemp(prefix="tenure-sim-", dir=shm))
        yield folder
        shutil.rmtree(folder, ignore_errors=True)
    else:
        yield tmp_path_factory.mktemp("sim")


@pytest.fixture(scope="session")
def tiny_run(fast_dir: Path) -> Path:
    out = fast_dir / "tiny"
    simulate_to_files(tiny_config(), out)
    return out
