"""Score the success frameworks against a simulated base's ground truth (evaluation code only).

Two figures, each printed beside an oracle and a naive baseline and the simulator's config hash
(ENGINEERING.md: "the simulator must not grade its own homework"):

- **Churn by fit band**: logo churn per fit band at signing (from the noisy handoff answers the
  simulator writes), which should decrease from good to bad fit; oracle = churn of the truly
  bad-fit accounts vs the rest; baseline = the overall churn rate (no banding).
- **Churn-classification agreement**: the cause side Tenure suggests from data vs the true cause
  side of each churned contract (the simulator's ``acquisition`` / ``vendor`` / ``customer``
  map to ``acquisition_fit`` / ``product_or_service`` / ``customer_change``); baseline = always
  answering the commonest true side. Downgrades carry no true cause and are left out.

The truth is read from ``<data_dir>/truth/*.parquet``; nothing outside evaluation code reads it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from itertools import pairwise
from pathlib import Path

import pyarrow.parquet as pq
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tenure.errors import NotFound
from tenure.model import Account, ChurnRecord, Contract
from tenure.success import churn_classification
from tenure.success.book import load_book
from tenure.success.churn_classification_service import classify_churn
from tenure.success.fit import BAND_ORDER, FitConfig
from tenure.success.fit_service import churned_by, fit_report

SIDE_FROM_TRUTH = {
    "acquisition": churn_classification.CauseSide.acquisition_fit.value,
    "vendor": churn_classification.CauseSide.product_or_service.value,
    "customer": churn_classification.CauseSide.customer_change.value,
}


class BandChurn(BaseModel):
    fit_band: str
    accounts: int
    churned: int
    logo_churn: float | None


class FitEvaluation(BaseModel):
    bands: list[BandChurn]
    decreasing_good_to_bad: bool
    oracle_bad_fit_churn: float | None
    oracle_good_fit_churn: float | None
    baseline_churn: float | None


class ClassificationEvaluation(BaseModel):
    churns_compared: int
    agreement: float | None
    agreement_where_suggested: float | None
    suggested_share: float | None
    baseline_agreement: float | None
    baseline_label: str | None
    avoidable_agreement: float | None
    confusion: dict[str, dict[str, int]]


class SuccessEvaluation(BaseModel):
    config_hash: str | None
    seed: int | None
    as_of: date
    fit: FitEvaluation
    classification: ClassificationEvaluation


def _truth(data_dir: Path, name: str) -> list[dict[str, object]]:
    path = data_dir / "truth" / f"{name}.parquet"
    if not path.exists():
        raise NotFound(f"{path}: no ground truth here; this data dir was not simulated")
    return pq.read_table(path).to_pylist()


def _rate(churned: int, accounts: int) -> float | None:
    return churned / accounts if accounts else None


def evaluate_fit(session: Session, data_dir: Path, as_of: date, config: FitConfig) -> FitEvaluation:
    report = fit_report(session, as_of, config)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in report.rows:  # logo counts may be added across currencies; ARR may not
        totals[row.fit_band.value][0] += row.accounts
        totals[row.fit_band.value][1] += row.churned
    bands = [
        BandChurn(
            fit_band=b.value,
            accounts=totals[b.value][0],
            churned=totals[b.value][1],
            logo_churn=_rate(totals[b.value][1], totals[b.value][0]),
        )
        for b in BAND_ORDER
        if b.value in totals
    ]
    rates = {b.fit_band: b.logo_churn for b in bands}
    ordered = [rates.get(b) for b in ("good", "stretch", "bad")]
    known = [r for r in ordered if r is not None]
    decreasing = len(known) >= 2 and all(a < b for a, b in pairwise(known))
    book = load_book(session, as_of)
    churned = {
        book.accounts[a].external_id: churned_by(book, a, as_of)
        for a, cs in book.contracts.items()
        if cs and cs[0].starts_on <= as_of
    }
    by_truth: dict[bool, list[int]] = {True: [0, 0], False: [0, 0]}
    for truth in _truth(data_dir, "accounts"):
        ext = str(truth["account_external_id"])
        if ext in churned:
            by_truth[bool(truth["bad_fit"])][0] += 1
            by_truth[bool(truth["bad_fit"])][1] += churned[ext]
    all_accounts = sum(v[0] for v in by_truth.values())
    return FitEvaluation(
        bands=bands,
        decreasing_good_to_bad=decreasing,
        oracle_bad_fit_churn=_rate(by_truth[True][1], by_truth[True][0]),
        oracle_good_fit_churn=_rate(by_truth[False][1], by_truth[False][0]),
        baseline_churn=_rate(sum(v[1] for v in by_truth.values()), all_accounts),
    )


def evaluate_classification(
    session: Session, data_dir: Path, as_of: date, config: FitConfig
) -> ClassificationEvaluation:
    classify_churn(session, as_of, config)
    suggested = {
        ext: (side, avoidable)
        for ext, side, avoidable in session.execute(
            sa.select(Contract.external_id, ChurnRecord.cause_side, ChurnRecord.avoidable)
            .join(Contract, Contract.id == ChurnRecord.contract_id)
            .join(Account, Account.id == ChurnRecord.account_id)
        )
    }
    truth_side: dict[str, str] = {}
    truth_avoidable: dict[str, bool] = {}
    for row in _truth(data_dir, "renewals"):
        ext = str(row["contract_external_id"])
        if row["outcome"] == "churned" and row["cause_side"] and ext in suggested:
            truth_side[ext] = SIDE_FROM_TRUTH[str(row["cause_side"])]
            truth_avoidable[ext] = bool(row["avoidable"])
    keys = sorted(truth_side)
    index = {k: i for i, k in enumerate(keys)}
    result = churn_classification.agreement(
        {index[k]: suggested[k][0] for k in keys}, {index[k]: truth_side[k] for k in keys}
    )
    named = [k for k in keys if suggested[k][0] != churn_classification.CauseSide.unknown.value]
    with_avoidable = [k for k in keys if suggested[k][1] is not None]
    return ClassificationEvaluation(
        churns_compared=result.compared,
        agreement=result.agreement,
        agreement_where_suggested=_rate(
            sum(suggested[k][0] == truth_side[k] for k in named), len(named)
        ),
        suggested_share=_rate(len(named), len(keys)),
        baseline_agreement=result.baseline_agreement,
        baseline_label=result.baseline_label,
        avoidable_agreement=_rate(
            sum(suggested[k][1] == truth_avoidable[k] for k in with_avoidable), len(with_avoidable)
        ),
        confusion=result.confusion,
    )


def evaluate(session: Session, data_dir: Path, as_of: date, config: FitConfig) -> SuccessEvaluation:
    """Both figures for the simulated base in ``data_dir`` (its database behind ``session``)."""
    meta_path = data_dir / "simulation.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    return SuccessEvaluation(
        config_hash=meta.get("config_hash"),
        seed=meta.get("seed"),
        as_of=as_of,
        fit=evaluate_fit(session, data_dir, as_of, config),
        classification=evaluate_classification(session, data_dir, as_of, config),
    )
