"""The simulated handoffs, advocacy and sent messages written straight into the stores, through
the same upserts their imports use (``tenure import handoffs`` / ``advocacy`` / ``messages``):
a Desired Outcome, a fit judgement, the team seats and a message's goal check come out the same
whichever way the base was built. Finance's
exchange-rate table likewise: the same rates the exports hand over, stored as `tenure fx import`
stores them, so reporting-currency KPIs work on a base loaded either way."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tenure.accounts.advocacy import upsert_advocacy
from tenure.accounts.crm_schemas import AdvocacyImport, HandoffImport, MessageImport
from tenure.accounts.fx_service import load_company_rates
from tenure.portfolio.handoff_import import upsert_handoffs
from tenure.simulate.config import SimulationConfig
from tenure.simulate.fx_rates import rates_csv
from tenure.success.engagement_service import upsert_messages

BATCH = 2_000
KINDS: tuple[tuple[str, type[BaseModel], Callable[[Session, Sequence[Any]], Any]], ...] = (
    ("handoffs", HandoffImport, upsert_handoffs),
    ("advocacy", AdvocacyImport, upsert_advocacy),
    ("messages", MessageImport, upsert_messages),
)


def load_crm_records(engine: sa.Engine, staging: Path) -> None:
    """Upsert the staged handoffs, then the advocacy records, in one transaction."""
    with Session(engine) as session, session.begin():
        for entity, schema, upsert in KINDS:
            path = staging / f"{entity}.parquet"
            if not path.exists():
                continue
            for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH):
                rows = [
                    schema.model_validate({k: v for k, v in r.items() if v is not None})
                    for r in batch.to_pylist()
                ]
                upsert(session, rows)


def load_rates(engine: sa.Engine, config: SimulationConfig) -> int:
    """The reporting currency and finance's monthly rates; the rates stored (0 without any)."""
    text = rates_csv(config)
    if text is None:
        return 0
    with Session(engine) as session, session.begin():
        return load_company_rates(session, config.reporting_currency, text).rows
