"""The learned churn model on a simulated customer base: ranking and early warning, honestly.

    .venv/bin/python -m benchmarks.churn [--data-dir DIR] [--preset demo --accounts 800
        --months 36 --seed 1] [--model gradient_boosting] [--horizon 120] [--lead 30]
        [--every-weeks 1] [--metrics all]

Without ``--data-dir`` a base is simulated into a temporary data dir first (``tenure simulate``'s
code path). The model is backtested exactly as ``tenure model evaluate`` does it: weekly
observations, features only from before each date, label = churn between the lead (30 days)
and the horizon (120 days) ahead, training without rows already lost within the lead, three
time-ordered folds with an embargo of one horizon. On the same out-of-time rows it reports, side
by side (shared/ENGINEERING.md, "The simulator must not grade its own homework"):

- the learned model, twice: with every metric, and without the catalog's usage by feature and
  the lifetime totals (the history is loaded once; both read the same rows);
- the naive baseline (days since last activity);
- the health scorecard (risk = 100 − score) with the shipped default scorecard;
- the renewal calendar: every account whose next renewal is 90 days to the horizon away, no
  model (with a 10% budget a month of renewals fits in the alert set, so this reaches every
  churner "≥ 90 days ahead": the early-warning figure is read beside it and beside the lift);
- three oracles from the ground-truth files (this benchmark is evaluation code, the only reader
  besides simulate/): the latent value (its moving average as of the month before); the same
  latent value ranked first among the accounts whose next renewal is due in the model's window
  (what a model could reach if it knew each account's value *today* perfectly and used the
  renewal calendar); and the churn probability the simulator used for the renewals due within
  the window (it knows the value at the future decision: a ceiling, not a rival).

Figures: AUC, top-decile lift (goal ≥ 4), precision/recall at a 10% alert budget, Brier, the
share of churners flagged ≥ 90 days before their renewal at that budget (goal ≥ 60%), and the lead
time distribution; plus the simulator's config hash and the wall and CPU seconds. Writes
``benchmarks/results/churn.json`` (headline ``figures.0.auc``: the learned model's AUC with
every metric; the model without them under ``variants``). ``--out`` names the JSON in that folder
(several seeds side by side). Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from benchmarks import record
from tenure.config import Settings
from tenure.metrics.by_feature import is_feature_metric
from tenure.model import Account
from tenure.risk.billing import Cadence, billing_cadences
from tenure.risk.datasets import CHANGE_WEEKS
from tenure.risk.evaluation import ALERT_BUDGET
from tenure.risk.evaluation import LEAD_DAYS as WARNING_LEAD_DAYS
from tenure.risk.history import History, contract_terms, latest_data_day, load_history
from tenure.risk.service import (
    DEFAULT_HISTORY_MODEL,
    Comparison,
    HistoryEvaluation,
    evaluate_loaded_history,
)
from tenure.store.database import create_engine, session_factory
from tenure.store.events import open_event_store

# The smoke run: few accounts, monthly observations, four metrics (as tests/risk does) and a
# lifetime total, so the model without it is backtested too.
SMOKE = {
    "accounts": 120,
    "months": 24,
    "every_weeks": 4,
    "metrics": (
        "license_utilization,usage_trend,days_since_last_activity,days_to_renewal,lifetime_events"
    ),
}
GOALS = {"top_decile_lift": 4.0, "flagged_90d_ahead_share": 0.60}
ALERT_SET = (
    f"alert set: the top {ALERT_BUDGET:.0%} of each scoring date's accounts by score (ties by row "
    f"order); flagged ≥ {WARNING_LEAD_DAYS} d = in it on the last date ≥ {WARNING_LEAD_DAYS} days "
    "before the renewal it was lost at; the model scores a booked renewal 0 (decided)"
)


def simulate(data_dir: Path, preset: str, accounts: int, months: int, seed: int) -> None:
    from tenure.simulate import load_config, simulate_into_stores

    config = load_config(
        preset, overrides={"accounts": accounts, "months": months, "seed": seed, "as_of": None}
    )
    result = simulate_into_stores(config, Settings(data_dir=data_dir))
    print(f"simulated {result.events:,} events in {result.seconds:.0f} s ({result.config_hash})")


def oracle(truth_dir: Path, external_ids: dict[int, str]) -> Callable[[pd.DataFrame], np.ndarray]:
    """Risk = minus the latent value's moving average of the last month ended before ``t``."""
    from tenure.simulate.truth import load_truth

    monthly = load_truth(truth_dir).value_monthly.to_pandas()
    monthly["month"] = pd.to_datetime(monthly["month"])
    value = monthly.set_index(["account_external_id", "month"])["latent_value_ewma"]

    def score(tested: pd.DataFrame) -> np.ndarray:
        previous = (
            (pd.to_datetime(tested["observed_on"]) - pd.DateOffset(months=1))
            .dt.to_period("M")
            .dt.to_timestamp()
        )
        keys = list(zip(tested["account_id"].map(external_ids), previous, strict=True))
        latent = value.reindex(keys).to_numpy(dtype=float)
        return np.asarray(-np.nan_to_num(latent, nan=np.nanmean(latent)))

    return score


def oracle_value_at_renewal(
    truth_dir: Path, external_ids: dict[int, str], horizon_days: int, lead_days: int
) -> Callable[[pd.DataFrame], np.ndarray]:
    """Risk = minus today's latent value, accounts renewing in the model's window ranked first.

    Uses only what is true on the scoring date (the value as of the month before) plus the
    renewal calendar every CS team knows, so it bounds what a perfect estimate of present value
    can reach on the early-warning figure; the renewal decision itself comes later.
    """
    latent = oracle(truth_dir, external_ids)

    def score(tested: pd.DataFrame) -> np.ndarray:
        risk = latent(tested)
        days_to_renewal = (
            pd.to_datetime(tested["next_renewal_on"]) - pd.to_datetime(tested["observed_on"])
        ).dt.days.to_numpy()
        ahead_of_the_rest = risk.max() - risk.min() + 1
        due = (days_to_renewal > lead_days) & (days_to_renewal <= horizon_days)
        return np.where(due, risk + ahead_of_the_rest, risk)

    return score


def oracle_renewals(
    truth_dir: Path,
    external_ids: dict[int, str],
    horizon_days: int,
    lead_days: int,
    *,
    intent: bool = False,
) -> Callable[[pd.DataFrame], np.ndarray]:
    """Risk = the churn probability the simulator itself used for renewals due in the window
    ``(t + lead, t + horizon]`` the model predicts.

    This knows the future (the latent value at the decision), so it is a ceiling, not a rival.
    With ``intent``, renewals whose customer has already formed its intent to leave by the
    scoring date (truth ``intent_on``) come first: what a perfect reading of today's pre-decision
    behaviour could reach.
    """
    from tenure.simulate.truth import load_truth

    renewals = load_truth(truth_dir).renewals.to_pandas()
    renewals["term_ends_on"] = pd.to_datetime(renewals["term_ends_on"])
    intent_on = pd.to_datetime(renewals.get("intent_on", pd.Series(pd.NaT, renewals.index)))
    renewals["intent_on"] = intent_on
    by_account = {a: frame for a, frame in renewals.groupby("account_external_id")}

    def score(tested: pd.DataFrame) -> np.ndarray:
        result = np.zeros(len(tested))
        for i, (account_id, observed_on) in enumerate(
            zip(tested["account_id"], pd.to_datetime(tested["observed_on"]), strict=True)
        ):
            due = by_account.get(external_ids[account_id])
            if due is None:
                continue
            window = due[
                (due["term_ends_on"] > observed_on + pd.Timedelta(days=lead_days))
                & (due["term_ends_on"] <= observed_on + pd.Timedelta(days=horizon_days))
            ]
            result[i] = 1 - np.prod(1 - window["p_churn"].to_numpy(dtype=float))
            if intent and (window["intent_on"] < observed_on).any():
                result[i] += 1
        return result

    return score


def scorecard(data_dir: Path) -> Callable[[pd.DataFrame], np.ndarray]:
    """Risk = 100 − the health score the default (or the data dir's) scorecard gives each row."""
    from tenure.health.scorecard import score_account
    from tenure.health.service import load_scorecard

    card = load_scorecard(data_dir)

    def score(tested: pd.DataFrame) -> np.ndarray:
        rows = tested.assign(account_external_id="", account_name="").to_dict("records")
        return np.array(
            [100 - score_account(card, row, as_of=row["observed_on"]).score for row in rows],
            dtype=float,
        )

    return score


def renewal_calendar(horizon_days: int) -> Callable[[pd.DataFrame], np.ndarray]:
    """Risk = 1 for the accounts whose next renewal is 90 days to ``horizon_days`` away: no
    model, only the renewal list. What the early-warning figure gives for nothing when a
    month of renewals fits in the alert budget."""

    def score(tested: pd.DataFrame) -> np.ndarray:
        days_to_renewal = (
            pd.to_datetime(tested["next_renewal_on"]) - pd.to_datetime(tested["observed_on"])
        ).dt.days.to_numpy()
        return ((days_to_renewal >= WARNING_LEAD_DAYS) & (days_to_renewal <= horizon_days)).astype(
            float
        )

    return score


def comparisons(
    data_dir: Path, truth_dir: Path, external_ids: dict[int, str]
) -> Callable[[Cadence], dict[str, Comparison]]:
    """The scorecard, the renewal calendar and the oracles, each ranking the group's window."""

    def of(cadence: Cadence) -> dict[str, Comparison]:
        horizon, lead = cadence.horizon_days, cadence.lead_days
        calendar: dict[str, Comparison] = {}
        if horizon > WARNING_LEAD_DAYS:
            calendar[f"calendar: renewal {WARNING_LEAD_DAYS}–{horizon} d out"] = renewal_calendar(
                horizon
            )
        return {
            "health scorecard (100 − score)": scorecard(data_dir),
            **calendar,
            "oracle: latent value": oracle(truth_dir, external_ids),
            "oracle: value now, renewals due first": oracle_value_at_renewal(
                truth_dir, external_ids, horizon, lead
            ),
            "oracle: true P(churn) of renewals due": oracle_renewals(
                truth_dir, external_ids, horizon, lead
            ),
            "oracle: intent to leave formed, due first": oracle_renewals(
                truth_dir, external_ids, horizon, lead, intent=True
            ),
        }

    return of


def _interval(figure: dict[str, Any], key: str, digits: int) -> str:
    interval = figure.get("intervals", {}).get(key)
    if not interval:
        return ""
    low, high = interval["ci95"]
    return f"[{low:.{digits}f}–{high:.{digits}f}]"


def print_part(part: HistoryEvaluation) -> None:
    figures = part.as_dict()
    billing = figures["billing"] or {}
    print(
        f"{billing.get('billing', '?')} billing: {billing.get('statement', '')} · "
        f"{part.rows} observations of {part.accounts} accounts · churn "
        f"{part.lead_days}–{part.horizon_days} d ahead {part.churn_rate:.1%}"
    )
    for skipped in part.skipped_folds:
        print(f"  fold {skipped['number']} not tested: {skipped['reason']}")
    header = f"{'score':34} {'AUC [95%]':>20} {'lift [95%]':>18} {'prec':>5} {'Brier':>6} "
    print(header + f"{'≥90d ahead':>16} {'lead p25/p50/p75 (d)':>22}")
    for figure in figures["figures"]:  # type: ignore[attr-defined]
        lead = figure["lead_time_days"]
        leads = "/".join(
            "—" if lead[q] is None else f"{lead[q]:.0f}" for q in ("p25", "p50", "p75")
        )
        print(
            f"{figure['name'][:34]:34} {figure['auc']:6.3f} {_interval(figure, 'auc', 3):>13} "
            f"{figure['top_decile_lift']:5.2f} {_interval(figure, 'top_decile_lift', 2):>12} "
            f"{figure['precision_at_budget']:5.2f} {figure['brier']:6.3f} "
            f"{figure['flagged_90d_ahead']:>5}/{figure['churners']:<4}"
            f"({figure['flagged_90d_ahead_share']:4.0%}) {leads:>22}"
        )
    print(f"  {ALERT_SET}")
    within = figures["model_vs_lost_within_horizon"]
    if within is not None:
        print(
            f"{part.model} against every loss within {part.horizon_days} d (decided ones too): "
            f"AUC {within['auc']:.3f}, lift {within['top_decile_lift']:.2f}"  # type: ignore[index]
        )
    for note in part.notes:
        print(f"  note: {note}")


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, help="A simulated data dir (with truth/).")
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--accounts", type=int, default=800)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--model", default=DEFAULT_HISTORY_MODEL)
    parser.add_argument(
        "--horizon", type=int, help="days ahead (default: from the contracts' billing periods)"
    )
    parser.add_argument("--lead", type=int, help="days (default: from the billing periods)")
    parser.add_argument(
        "--every-weeks", type=int, help="observe every Nth Monday (default: weekly)"
    )
    parser.add_argument("--metrics", help="comma-separated metrics to learn from (default: all)")
    parser.add_argument("--out", default="churn.json", help="The JSON's name in the results dir.")
    args, bench = record.begin(__file__, parser, argv, SMOKE)
    data_dir = args.data_dir or (
        bench.scratch("data") if bench.smoke else Path(tempfile.mkdtemp(prefix="tenure-churn-"))
    )
    if args.data_dir is None:
        simulate(data_dir, args.preset, args.accounts, args.months, args.seed)
    truth_dir = data_dir / "truth"
    run = json.loads((truth_dir / "run.json").read_text())
    settings = Settings(data_dir=data_dir)
    engine = create_engine(settings.resolved_database_url)
    store = open_event_store(settings)
    data_end: date = latest_data_day(store)
    started, cpu_started = time.perf_counter(), time.process_time()
    with session_factory(engine)() as session:
        external_ids = dict(session.execute(sa.select(Account.id, Account.external_id)).all())
        cadences = billing_cadences(
            contract_terms(session), args.horizon, args.lead, args.every_weeks
        )
        history = load_history(
            session,
            store,
            data_end,
            args.metrics.split(",") if args.metrics else None,
            min(c.every_weeks for c in cadences),
        )
    loaded, cpu_loaded = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"history: {len(history.features)} dates in {loaded:.0f} s ({cpu_loaded:.0f} s CPU)")
    report: dict[str, Any] = {
        "config_hash": run.get("config_hash"),
        "simulation": {k: run.get(k) for k in ("seed", "start", "as_of", "accounts", "months")},
        "history_seconds": round(loaded, 1),
        "history_cpu_seconds": round(cpu_loaded, 1),
        "goals": GOALS,
        "alert_set": ALERT_SET,
    }
    for number, (variant, columns) in enumerate(metric_variants(history)):
        variant_started = time.perf_counter()
        evaluation = evaluate_loaded_history(
            history.with_columns(columns),
            cadences,
            args.model,
            comparisons=comparisons(data_dir, truth_dir, external_ids),
        )
        seconds = time.perf_counter() - variant_started
        figures = {"metrics": variant, "seconds": round(seconds, 1), **evaluation.as_dict()}
        if number == 0:  # every metric, at the top level as before there were variants
            report.update(figures)
        else:
            report.setdefault("variants", []).append(figures)
        print(f"\n== model {variant} · config hash {report['config_hash']} · to {data_end}")
        for part in evaluation.parts:
            print_part(part)
        for group in evaluation.unevaluated:
            print(f"{group['billing']['billing']} billing not evaluated: {group['error']}")  # type: ignore[index]
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["cpu_seconds"] = round(time.process_time() - cpu_started, 1)
    print(f"\n{report['seconds']:.0f} s wall, {report['cpu_seconds']:.0f} s CPU")
    return bench.write(report, headline="evaluations.0.figures.0.auc", filename=args.out)


# Lifetime totals of the registry, left out with the usage by feature in the "without" model.
LIFETIME_METRICS = ("lifetime_events", "events_per_active_month")


def metric_variants(history: History) -> list[tuple[str, list[str] | None]]:
    """The metric sets the model is backtested with on the same rows: every metric, then (when
    the history has any) without the usage by feature and the lifetime totals."""
    columns = list(next(iter(history.features.values())).columns)
    without = [
        c for c in columns if not is_feature_metric(c) and _metric_of(c) not in LIFETIME_METRICS
    ]
    variants: list[tuple[str, list[str] | None]] = [("with every metric", None)]
    if len(without) < len(columns):
        variants.append(("without usage by feature and lifetime totals", without))
    return variants


def _metric_of(column: str) -> str:
    """The metric a column of the observation rows comes from (its change has a suffix)."""
    return column.removesuffix(f"_change_{CHANGE_WEEKS}w")


if __name__ == "__main__":
    main()
