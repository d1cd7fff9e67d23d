"""`tenure --help` stays instant: loading the command line loads none of the heavy libraries.

They cost seconds together (pandas, Ibis, pyarrow, SQLAlchemy and the models, FastAPI …); each
command imports what it needs when it runs. Checked in a fresh interpreter, where nothing else
has imported them yet — a figure of merit, not a timing that a busy machine could break.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "alembic",
    "duckdb",
    "fastapi",
    "ibis",
    "lifelines",
    "lightgbm",
    "numpy",
    "pandas",
    "pyarrow",
    "pydantic",
    "pyspark",
    "sklearn",
    "sqlalchemy",
    "starlette",
    "uvicorn",
    "tenure.model",
    "tenure.store",
)

PROBE = """
import json, sys
from tenure.cli.main import app
heavy = json.loads(sys.argv[1])
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


def heavy_modules_loaded(before: str = "") -> list[str]:
    """The heavy modules a fresh interpreter holds after running `before` and loading the CLI."""
    probe = subprocess.run(
        [sys.executable, "-c", before + PROBE, json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: list[str] = json.loads(probe.stdout)
    return loaded


def test_loading_the_command_line_imports_no_heavy_module() -> None:
    assert heavy_modules_loaded() == []


def test_the_probe_sees_a_heavy_module_when_one_is_loaded() -> None:
    assert heavy_modules_loaded("import sqlalchemy\n") == ["sqlalchemy"]
