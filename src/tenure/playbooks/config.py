"""Deployment settings of the playbooks: SMTP, the public URL of survey links, retry policy,
the daily run's schedule.

Read from ``TENURE_*`` environment variables like the core Settings; domain thresholds live in
the rules YAML instead.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlaybookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TENURE_", env_file=".env", extra="ignore")

    smtp_host: str | None = Field(
        default=None, description="SMTP server; unset means messages wait in the outbox."
    )
    smtp_port: int = Field(default=25, description="SMTP port (587 for STARTTLS, 465 for TLS).")
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        default="none", description="none, starttls (upgrade after connect) or tls (implicit)."
    )
    smtp_username: str | None = Field(default=None, description="SMTP login, when required.")
    smtp_password: str | None = Field(default=None, description="SMTP password.")
    smtp_timeout: float = Field(default=30.0, description="Seconds before an SMTP call fails.")
    mail_from: str = Field(
        default="tenure@localhost", description="From address of every message Tenure sends."
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Base URL people reach Tenure at; survey links point there.",
    )
    rules_file: Path | None = Field(
        default=None, description="Rules YAML; default: the packaged default_rules.yaml."
    )
    delivery_max_attempts: int = Field(
        default=8, description="Email and webhook attempts before a delivery is marked failed."
    )
    delivery_backoff_seconds: float = Field(
        default=60.0, description="First retry delay; it doubles with each attempt (max 6 h)."
    )
    sync_before_daily: bool = Field(
        default=True,
        description=(
            "The daily run first syncs every connected system (`tenure connect`), so the "
            "morning's scores read the night's CRM, billing and support changes; false leaves "
            "syncing to `tenure connect sync` on its own schedule."
        ),
    )
    daily_at: time | None = Field(
        default=time(6),
        description=(
            "UTC time of day the worker (`tenure serve`'s, or `tenure run worker`) starts the "
            "daily run for today; `off` turns the schedule off (run `tenure run daily` from cron "
            "instead). 06:00 UTC: after the previous day's events are in, before CS teams in "
            "Europe start their day."
        ),
    )
    worker_every: float = Field(
        default=60.0,
        ge=0,
        description=(
            "Seconds between the worker's ticks: is the daily run due, then send due email and "
            "webhooks. A minute keeps email prompt without busy polling. 0: `tenure serve` "
            "starts no worker (run `tenure run worker` on another machine)."
        ),
    )

    @field_validator("daily_at", mode="before")
    @classmethod
    def _off(cls, value: object) -> object:
        """``off``, ``none`` or empty switch the schedule off; anything else must be HH:MM."""
        if isinstance(value, str) and value.strip().lower() in {"", "off", "none"}:
            return None
        return value


def playbook_settings() -> PlaybookSettings:
    return PlaybookSettings()


MAX_BACKOFF_SECONDS = 6 * 3600


def retry_delay(attempt: int, base_seconds: float) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): base × 2^(attempt−1).

    >>> [retry_delay(n, 60) for n in (1, 2, 3)]
    [60, 120, 240]
    """
    return min(MAX_BACKOFF_SECONDS, base_seconds * 2 ** (attempt - 1))
