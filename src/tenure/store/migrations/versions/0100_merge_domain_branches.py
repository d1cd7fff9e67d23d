"""One head after the parallel domain branches: later migrations chain from here

Revision ID: 0100
Revises: 0010_ingest, 0020_metrics, 0030_risk, 0040_success, 0050_web, 0060_playbooks
Create Date: 2026-11-26 17:21:03.076925
"""

from collections.abc import Sequence

revision: str = "0100"
down_revision: str | Sequence[str] | None = (
    "0010_ingest",
    "0020_metrics",
    "0030_risk",
    "0040_success",
    "0050_web",
    "0060_playbooks",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
