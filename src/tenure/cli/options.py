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


def parse_day(value: str | None, option: str = "--as-of") -> date:
    """A day that is a parameter rather than the day judged (the daily run's day, a report's
    start or end): today unless given."""
    from tenure.dates import parse_day as parse
    from tenure.model.base import utcnow

    return utcnow().date() if value is None else parse(value, option)


def ruleset_of(path: Path | None, session: Session | None = None) -> Ruleset:
    """The rules file's rules, and (given the session) those saved from the console's rule
    builder — the set the daily run evaluates."""
    from tenure.playbooks.config import playbook_settings
    from tenure.playbooks.rule_builder import with_stored_rules
    from tenure.playbooks.rules import load_ruleset

    ruleset = load_ruleset(path or playbook_settings().rules_file)
    return ruleset if session is None else with_stored_rules(session, ruleset)
