from datetime import date

from tenure.success.churn_classification import (
    CauseSide,
    ChurnFacts,
    ChurnKind,
    agreement,
    report_by_class,
    suggest,
)

NOTICE = date(2025, 6, 1)


def churn(**kwargs: object) -> ChurnFacts:
    base: dict[str, object] = {
        "account_id": 1,
        "kind": ChurnKind.churned,
        "churned_on": date(2025, 9, 1),
        "notice_on": NOTICE,
        "success_potential_at_signing": True,
        # Tenure watched the base since 2024: the notice of 2025 could be foreseen or missed.
        "monitored_since": date(2024, 1, 1),
    }
    return ChurnFacts(**{**base, **kwargs})  # type: ignore[arg-type]


def test_bad_fit_at_signing_is_an_avoidable_acquisition_problem() -> None:
    s = suggest(churn(success_potential_at_signing=False, risk_flag_dates=[date(2025, 5, 2)]))
    # The flag came 30 days before notice (2025-06-01 − 30 = 2025-05-02) → foreseen.
    assert (s.churn_class, s.cause_side, s.avoidable) == (
        "foreseen_bad_fit",
        CauseSide.acquisition_fit,
        True,
    )


def test_only_flags_in_the_year_before_notice_foresee_it() -> None:
    old = suggest(churn(risk_flag_dates=[date(2024, 5, 1)]))  # 396 days before the notice
    assert not old.foreseen
    assert suggest(churn(risk_flag_dates=[date(2024, 6, 1)])).foreseen  # exactly 365 days


def test_champion_leaving_is_customer_side_but_avoidable() -> None:
    s = suggest(
        churn(
            champion_left_on=[date(2025, 3, 1)],
            risk_flag_dates=[date(2025, 5, 3)],
            stated_reason="budget",
        )
    )
    assert (s.churn_class, s.cause_side, s.avoidable) == (
        "unforeseen_good_fit",
        CauseSide.customer_change,
        True,
    )
    assert (s.internal_reason, s.stated_reason) == ("champion_left", "budget")
    acquired = suggest(churn(stated_reason="company_acquired"))
    assert (acquired.cause_side, acquired.internal_reason, acquired.avoidable) == (
        CauseSide.customer_change,
        "acquired",
        False,
    )


def test_product_evidence_and_no_evidence() -> None:
    tickets = [date(2025, 3, 1), date(2025, 4, 1), date(2025, 5, 1)]
    s = suggest(churn(high_priority_ticket_dates=tickets))
    assert (s.cause_side, s.internal_reason, s.avoidable) == (
        CauseSide.product_or_service,
        "support_issues",
        True,
    )
    # Low utilization before the notice comes first: the value never arrived.
    low = suggest(churn(high_priority_ticket_dates=tickets, license_utilization=0.2))
    assert low.internal_reason == "low_adoption"
    assert (
        low.reasons[-1]
        == "license utilization 20 % before the notice, under 40 %: the value never arrived"
    )
    # A plan whose first value never came: onboarding failed, before utilization is looked at.
    onboarding = suggest(churn(first_value_reached=False, license_utilization=0.2))
    assert (onboarding.cause_side, onboarding.internal_reason) == (
        CauseSide.product_or_service,
        "no_first_value",
    )
    # Two tickets are not enough; a detractor NPS is.
    assert suggest(churn(high_priority_ticket_dates=tickets[1:], last_nps=4)).internal_reason == (
        "low_value"
    )
    # Two or more failing fit criteria at signing point upstream, before any product evidence.
    weak = suggest(
        churn(failing_at_signing=["values", "resources"], high_priority_ticket_dates=tickets)
    )
    assert (weak.cause_side, weak.internal_reason) == (
        CauseSide.acquisition_fit,
        "weak_fit_at_signing",
    )
    none = suggest(churn(kind=ChurnKind.downgraded))
    assert (none.cause_side, none.avoidable) == (CauseSide.unknown, None)


def test_reports_and_agreement() -> None:
    rows = report_by_class(
        [
            (date(2025, 1, 5), "foreseen_good_fit", "customer_change"),
            (date(2025, 2, 5), "foreseen_good_fit", "customer_change"),
            (date(2025, 4, 5), "unforeseen_bad_fit", "acquisition_fit"),
        ]
    )
    assert [(r.period, r.count) for r in rows] == [("2025-Q1", 2), ("2025-Q2", 1)]
    a = agreement({1: "x", 2: "y", 3: "x", 9: "x"}, {1: "x", 2: "x", 3: "x", 4: "y"})
    assert (a.compared, a.agreed, a.baseline_label) == (3, 2, "x")
    assert a.confusion == {"x": {"x": 2, "y": 1}}


def test_a_loss_noticed_before_monitoring_existed_is_neither_foreseen_nor_unforeseen() -> None:
    s = suggest(churn(monitored_since=date(2025, 7, 1), risk_flag_dates=[date(2025, 5, 2)]))
    assert s.foreseen is None and s.churn_class == "foresight_unknown_good_fit"
    assert "before Tenure watched this base (2025-07-01)" in s.reasons[0]
    never = suggest(churn(monitored_since=None))
    assert never.foreseen is None
