"""Options and parsers the playbook commands (run, rules, ctas, surveys) share."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
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


def ruleset_of(path: Path | None) -> Ruleset:
    from tenure.playbooks.config import playbook_settings
    from tenure.playbooks.rules import load_ruleset

    return load_ruleset(path or playbook_settings().rules_file)
