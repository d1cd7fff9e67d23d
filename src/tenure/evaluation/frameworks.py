"""Framework outputs against a simulated base's ground truth (evaluation code only).

For the framework sanity report (``tenure frameworks check``) on a simulated data dir:

- **fit band at signing vs true fit**: the band from the noisy handoff answers against the
  simulator's ``bad_fit`` (no Success Potential by construction); agreement over accounts with a
  known band (good and stretch read "good fit").
- **Expand vs true expansions**: the LAER Expand motion active on as_of against a true
  ``expanded`` renewal decision in the 90 days before it; nirvana's "buys more" against one in
  the 365 days before it.
- **value stage vs true engagement**: the Value/ROI stage against whether the account's latent
  value over the last year was above the base's median — the simulator keeps no separate
  "stakeholder engagement" truth; engagement feeds latent value. Agreement: Expanding or
  Conquering ⇔ above the median.
- **Required Outcome met vs latent value**: the Required Outcome in force, met or not by the CS
  team's last measurement, against latent value over the last year above the base's median.
- **value realized vs latent value**: the ESG and ClientSuccess "value realized" fact (value
  achieved or expanded within the last year, docs/lifecycle.md) against latent value over the last
  year above the base's median.
- **foreseen vs a flag before the notice**: each classified loss's ``foreseen`` against whether a
  risk flag (risk CTA or red health day) existed at least 30 days before its notice; a notice
  before any monitoring existed reads "no monitoring" (its right class is "unknown").
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tenure.model import ChurnRecord, Contract, DesiredOutcome
from tenure.simulate.truth import load_truth
from tenure.success import check, fit, lifecycle, outcome
from tenure.success.book import (
    Book,
    account_facts,
    active_contracts,
    load_book,
    monitored_since,
    value_stage_of,
)
from tenure.success.churn_classification import FORESEEN_LEAD_DAYS
from tenure.success.expansion_service import account_potential, offered_plans
from tenure.success.lifecycle_service import desired_outcomes, lifecycle_facts, value_facts
from tenure.success.lifecycle_variants import realized
from tenure.success.outcome_service import outcome_version

EXPAND_DAYS = 90
YEAR = 365


def _agreement(
    framework: str,
    output: str,
    truth: str,
    pairs: list[tuple[str, str]],
    same: Callable[[str, str], bool | None],
    note: str,
) -> check.Agreement:
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    judged = agreed = 0
    for said, true in pairs:
        table[said][true] += 1
        verdict = same(said, true)
        if verdict is not None:
            judged += 1
            agreed += verdict
    return check.Agreement(
        framework=framework,
        output=output,
        truth=truth,
        compared=judged,
        agreement=agreed / judged if judged else None,
        table={k: dict(v) for k, v in sorted(table.items())},
        note=note,
    )


def _fit_band(book: Book, config: fit.FitConfig, bad_fit: dict[str, bool]) -> check.Agreement:
    pairs = []
    for account_id, account in book.accounts.items():
        if account.external_id not in bad_fit or not book.contracts[account_id]:
            continue
        band = fit.assess_fit(account_facts(book, account_id, at_signing=True), config).fit_band
        pairs.append((band.value, "bad fit" if bad_fit[account.external_id] else "good fit"))
    return _agreement(
        "fit",
        "fit_band_at_signing",
        "true fit (simulator bad_fit)",
        pairs,
        lambda said, true: None if said == "unknown" else (said == "bad") == (true == "bad fit"),
        "good and stretch read good fit; unknown bands are not judged",
    )


def _expansions(
    session: Session, book: Book, config: fit.FitConfig, expanded: dict[str, list[date]]
) -> list[check.Agreement]:
    as_of = book.as_of
    plans = offered_plans(session)
    motion, buys = [], []
    for account_id, account in book.accounts.items():
        if not active_contracts(book, account_id, as_of):
            continue
        days = expanded.get(account.external_id, [])
        stage = lifecycle.laer_stage(lifecycle_facts(book, account_id), as_of)
        recent = any(as_of - timedelta(days=EXPAND_DAYS) < d <= as_of for d in days)
        motion.append(
            (
                "expand" if lifecycle.LaerStage.expand in stage.active_motions else "no expand",
                "expanded" if recent else "did not expand",
            )
        )
        view = account_potential(book, account_id, config, plans, [], {}, None)
        year = any(as_of - timedelta(days=YEAR) < d <= as_of for d in days)
        buys.append(
            (
                check.label(view.nirvana.buys_more.potential),
                "expanded" if year else "did not expand",
            )
        )
    return [
        _agreement(
            "lifecycle",
            "expand_active",
            f"a true expansion in the {EXPAND_DAYS} days before as_of",
            motion,
            lambda said, true: (said == "expand") == (true == "expanded"),
            "active accounts",
        ),
        _agreement(
            "nirvana",
            "buys_more",
            f"a true expansion in the {YEAR} days before as_of",
            buys,
            lambda said, true: (
                None if said == check.NOT_ENOUGH_DATA else (said == "yes") == (true == "expanded")
            ),
            "active accounts",
        ),
    ]


def _value(book: Book, latent: dict[str, float]) -> check.Agreement:
    active = [
        (a, latent[acc.external_id])
        for a, acc in book.accounts.items()
        if acc.external_id in latent and active_contracts(book, a, book.as_of)
    ]
    median = statistics.median(v for _, v in active) if active else 0.0
    pairs = [
        (value_stage_of(book, a).stage.value, "above median" if v > median else "at or below")
        for a, v in active
    ]
    return _agreement(
        "value",
        "stage",
        "latent value over the last year above the base's median",
        pairs,
        lambda said, true: (said in ("expanding", "conquering")) == (true == "above median"),
        "the simulator keeps no separate engagement truth: engagement feeds latent value",
    )


def _required_outcome(session: Session, book: Book, latent: dict[str, float]) -> check.Agreement:
    """The Required Outcome in force, met or not by the CS team's last measurement, against the
    account's latent value over the last year above the base's median."""
    versions: dict[int, list[outcome.DesiredOutcomeVersion]] = defaultdict(list)
    for row in session.scalars(sa.select(DesiredOutcome).order_by(DesiredOutcome.version)):
        if row.effective_from <= book.as_of:
            versions[row.account_id].append(outcome_version(row))
    active = [
        (a, latent[acc.external_id])
        for a, acc in book.accounts.items()
        if acc.external_id in latent and active_contracts(book, a, book.as_of)
    ]
    median = statistics.median(v for _, v in active) if active else 0.0
    pairs = []
    for a, v in active:
        if (current := outcome.current_version(versions[a], book.as_of)) is None:
            continue
        status = outcome.evaluate_outcome(current, account_facts(book, a))
        pairs.append((status.required_met.value, "above median" if v > median else "at or below"))
    return _agreement(
        "outcome",
        "required_met",
        "latent value over the last year above the base's median",
        pairs,
        lambda said, true: (
            None if said == "unknown" else (said == "pass") == (true == "above median")
        ),
        "accounts with a Desired Outcome in force; 'unknown' (never measured) is not judged",
    )


def _value_realized(session: Session, book: Book, latent: dict[str, float]) -> check.Agreement:
    """Value realized within the year (the evidence ESG's Realization and ClientSuccess's Value
    realization read) against latent value over the last year above the base's median."""
    outcomes = desired_outcomes(session)
    active = [
        (a, latent[acc.external_id])
        for a, acc in book.accounts.items()
        if acc.external_id in latent and active_contracts(book, a, book.as_of)
    ]
    median = statistics.median(v for _, v in active) if active else 0.0
    pairs = [
        (
            "realized" if realized(value_facts(book, a, outcomes[a]), book.as_of) else "not shown",
            "above median" if v > median else "at or below",
        )
        for a, v in active
    ]
    return _agreement(
        "lifecycle",
        "value_realized",
        "latent value over the last year above the base's median",
        pairs,
        lambda said, true: (said == "realized") == (true == "above median"),
        "active accounts; value shown = outcome met, value milestone, full EBR or expansion",
    )


def _foreseen(session: Session, book: Book) -> check.Agreement:
    monitored_from = monitored_since(session, book)
    pairs = []
    rows = session.execute(
        sa.select(ChurnRecord, Contract.notice_on, Contract.outcome_on, Contract.ends_on).join(
            Contract, Contract.id == ChurnRecord.contract_id
        )
    )
    for record, notice_on, outcome_on, ends_on in rows:
        anchor = notice_on or outcome_on or ends_on
        flags = [
            d
            for d in book.risk_flags[record.account_id]
            if anchor - timedelta(days=YEAR) <= d <= anchor - timedelta(days=FORESEEN_LEAD_DAYS)
        ]
        if monitored_from is None or anchor < monitored_from:
            truth = "no monitoring"
        else:
            truth = "flag before notice" if flags else "no flag"
        pairs.append((check.label(record.foreseen), truth))
    return _agreement(
        "churn",
        "foreseen",
        f"a risk flag at least {FORESEEN_LEAD_DAYS} days before the notice",
        pairs,
        lambda said, true: (
            said == check.NOT_ENOUGH_DATA
            if true == "no monitoring"
            else (said == "yes") == (true == "flag before notice")
        ),
        "a notice before monitoring existed agrees only with 'not enough data'",
    )


def truth_agreement(
    session: Session, data_dir: Path, as_of: date, config: fit.FitConfig
) -> list[check.Agreement]:
    """Every agreement figure for the simulated base in ``data_dir`` (its database behind
    ``session``)."""
    truth = load_truth(data_dir / "truth")
    book = load_book(session, as_of)
    bad_fit = {
        str(r["account_external_id"]): bool(r["bad_fit"]) for r in truth.accounts.to_pylist()
    }
    expanded: dict[str, list[date]] = defaultdict(list)
    for r in truth.renewals.to_pylist():
        if r["outcome"] == "expanded" and r["decision_on"] <= as_of:
            expanded[str(r["account_external_id"])].append(r["decision_on"])
    year_ago = as_of - timedelta(days=YEAR)
    sums: dict[str, list[float]] = defaultdict(list)
    for r in truth.value_monthly.to_pylist():
        if year_ago < r["month"] <= as_of:
            sums[str(r["account_external_id"])].append(float(r["latent_value"]))
    latent = {k: statistics.fmean(v) for k, v in sums.items()}
    return [
        _fit_band(book, config, bad_fit),
        *_expansions(session, book, config, expanded),
        _value(book, latent),
        _required_outcome(session, book, latent),
        _value_realized(session, book, latent),
        _foreseen(session, book),
    ]
