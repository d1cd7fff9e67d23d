"""Options and parsers the playbook commands (run, rules, ctas, surveys) share."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tenure.playbooks.rules import Ruleset

RulesOption = typer.Option(
    None, "--rules", help="Rules YAML (default: TENURE_RULES_FILE or the packaged defaults)."
)
AsOfOption = typer.Option(None, "--as-of", help="As-of date YYYY-MM-DD (default: today, UTC).")
ReadingDayOption = typer.Option(
    None,
    "--as-of",
    help="The day of the change, YYYY-MM-DD (default: the last day the data covers, as in "
    "the console and the API).",
)


def parse_day(value: str | None) -> date:
    from tenure.errors import InvalidInput
    from tenure.model.base import utcnow

    if value is None:
        return utcnow().date()
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise InvalidInput(f"--as-of {value!r}: expected a date like 2026-03-31") from error


def reading_day_of(session: Session, value: str | None) -> date:
    """``--as-of``, else the day the console and the API read the data as of."""
    from tenure.cli.context import event_store
    from tenure.model.base import utcnow
    from tenure.portfolio.freshness import reading_day

    if value is not None:
        return parse_day(value)
    return reading_day(session, event_store(), utcnow().date())


def ruleset_of(path: Path | None) -> Ruleset:
    from tenure.playbooks.config import playbook_settings
    from tenure.playbooks.rules import load_ruleset

    return load_ruleset(path or playbook_settings().rules_file)
