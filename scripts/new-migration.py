"""Autogenerate a migration: `python scripts/new-migration.py REV_ID "message" [PARENT]`.

Upgrades a scratch SQLite database to every head, then diffs the models against it.
PARENT (default: the single head) lets parallel work branch off one revision; `upgrade heads`
applies all branches. Read the generated file and keep only your own tables.
"""

import sys
import tempfile
from pathlib import Path

from alembic import command

from tenure.store.database import create_engine
from tenure.store.migrate import alembic_config, upgrade

rev_id, message = sys.argv[1], sys.argv[2]
parent = sys.argv[3] if len(sys.argv) > 3 else "head"
with tempfile.TemporaryDirectory() as tmp:
    url = f"sqlite:///{Path(tmp) / 'scratch.db'}"
    upgrade(create_engine(url))
    command.revision(
        alembic_config(url),
        message=message,
        autogenerate=True,
        rev_id=rev_id,
        head=parent,
        splice=parent != "head",
    )
