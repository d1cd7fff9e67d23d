"""Small churn tables with a known structure, generated from fixed seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd


def churn_table(rows: int = 600, seed: int = 7) -> pd.DataFrame:
    """A customer table whose churn depends on seats used, plan and a U-shaped tenure effect.

    Also carries what real exports carry: a text customer id, an integer row id, a constant
    column, a numeric column stored as text with blanks, and a noise column.
    """
    rng = np.random.default_rng(seed)
    utilization = rng.uniform(0, 1, rows)
    tenure_months = rng.integers(1, 60, rows)
    plan = rng.choice(["basic", "pro", "enterprise"], rows, p=[0.5, 0.3, 0.2])
    tickets = rng.poisson(2, rows)
    logit = (
        1.0
        - 4.0 * utilization
        + 0.002 * (tenure_months - 30) ** 2
        + np.select([plan == "basic", plan == "pro"], [0.8, 0.0], -1.0)
        + 0.3 * tickets
        - 1.0
    )
    churned = rng.uniform(0, 1, rows) < 1 / (1 + np.exp(-logit))
    monthly_fee = np.round(rng.uniform(20, 120, rows), 2).astype(object)
    monthly_fee[::50] = " "  # blanks, as spreadsheets export missing numbers
    return pd.DataFrame(
        {
            "row": np.arange(1, rows + 1),
            "customer_id": [f"CUST-{i:05d}" for i in range(rows)],
            "utilization": utilization,
            "tenure_months": tenure_months,
            "plan": plan,
            "tickets": tickets,
            "monthly_fee": monthly_fee,
            "country": "NL",
            "noise": rng.normal(size=rows),
            "Churn": np.where(churned, "Yes", "No"),
        }
    )
