"""Finance's exchange-rate table as the company hands it over, the file `tenure fx import`
reads (the rates themselves: ``tenure.simulate.fx_rates``)."""

from __future__ import annotations

from pathlib import Path

from tenure.simulate.config import SimulationConfig
from tenure.simulate.fx_rates import rates_csv

RATES_FILE = "finance/fx_rates.csv"


def write_rates(config: SimulationConfig, out: Path) -> int:
    """Write the table under ``out``; the rows written (none without a table)."""
    text = rates_csv(config)
    if text is None:
        return 0
    path = out / RATES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return text.count("\n") - 1
