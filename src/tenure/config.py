"""Deployment settings: where the stores live, secrets, the server's address.

Domain thresholds (scorecards, rules, fit criteria) live in documented YAML, not here.
Every setting reads a ``TENURE_*`` environment variable.
"""

from __future__ import annotations

import ipaddress
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tenure.auth.secret_key import check_secret_key, data_dir_secret_key


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TENURE_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=Path(".tenure"),
        description="Folder for the embedded stores: SQLite database, event inbox and Parquet.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the operational database. Default: a SQLite file in data_dir. "
            "Use postgresql+psycopg://… in production; events then live in PostgreSQL too."
        ),
    )
    secret_key: str | None = Field(
        default=None,
        description=(
            "Signs session cookies and survey links: at least 32 random characters. Unset, a "
            "random key is generated on first use and kept in data_dir/secret_key (mode 0600), "
            "which every process on this machine shares; set it when servers on several "
            "machines must accept each other's sessions. Changing it signs everyone out."
        ),
    )
    trusted_proxies: str = Field(
        default="",
        description=(
            "Comma-separated addresses or networks (10.0.0.5, 10.0.0.0/8) of the reverse "
            "proxies in front of Tenure. Only their X-Forwarded-For and X-Forwarded-Proto are "
            "believed: the client address counts sign-in failures, so believing anyone's would "
            "let a guesser pick a fresh address for every try. Default: none."
        ),
    )
    host: str = Field(default="127.0.0.1", description="Address `tenure serve` binds.")
    port: int = Field(default=8000, description="Port `tenure serve` binds.")
    web_workers: int = Field(
        default=1,
        ge=1,
        description=(
            "uvicorn worker processes `tenure serve` starts. More than one serves requests "
            "at the same time on a multi-core machine (2 on 2 cores): sessions are signed "
            "cookies and sign-in failures are counted in the database, so any worker may "
            "answer any request. One request is no faster; ingest limits apply per worker."
        ),
    )
    import_precedence: Path | None = Field(
        default=None,
        description=(
            "YAML file saying, per account and contact field, which system's value is kept when "
            "imports from two systems disagree (Salesforce, HubSpot, Stripe…). Default: the "
            "shipped tenure/ingest/precedence.yaml (the CRM of record first); copy it to change "
            "it. See docs/imports.md, One company, several systems."
        ),
    )
    events_engine: Literal["duckdb", "spark"] = Field(
        default="duckdb",
        description=(
            "What reads the events for metrics: duckdb (in-process, one machine) or spark "
            "(the same Parquet files through Spark; needs `pip install 'tenure[spark]'` and "
            "Java). With spark, events stay in Parquet under data_dir even on PostgreSQL."
        ),
    )
    analytics_memory_limit: str = Field(
        default="1GB",
        description=(
            "Memory the in-process DuckDB that computes metrics may hold (DuckDB's units: "
            "512MB, 1GB, 4GB); beyond it DuckDB spills to a temporary folder. DuckDB alone "
            "would take up to 80 % of the machine's memory: a 150-day metrics pass over "
            "10,000 accounts grew to 2.3 GB that way. Raise it on a machine of its own."
        ),
    )
    spark_master: str = Field(
        default="local[2]",
        description=(
            "Spark master URL when events_engine is spark: local[N] runs Spark inside this "
            "process with N cores; spark://host:7077 (or yarn, k8s://…) uses a cluster, whose "
            "executors must read data_dir at the same path. See docs/scaling.md."
        ),
    )

    ingest_max_requests: int = Field(
        default=64,
        ge=1,
        description=(
            "Segment requests one server process reads and writes at once; more are answered "
            "429 with Retry-After before their body is read (memory stays bounded)."
        ),
    )
    ingest_max_queued_events: int = Field(
        default=100_000,
        ge=1,
        description=(
            "Events waiting for the inbox writer in one server process; a request that would "
            "exceed it gets 429 with Retry-After (Segment libraries retry 429)."
        ),
    )
    ingest_retry_after: int = Field(
        default=1, ge=1, description="Seconds a refused (429) sender is told to wait."
    )
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description=(
            "How `tenure serve` logs: json (one object per line with the request id, for "
            "journald, containers and log shippers), text (for a person at a terminal), or "
            "auto: text when stderr is a terminal, json otherwise."
        ),
    )
    metrics_public: bool = Field(
        default=False,
        description=(
            "Let any client read /metrics. Off, only clients on this machine that did not "
            "come through a proxy may: route names, volumes and job state are not for the "
            "internet. Turn on for a Prometheus on a private network, and keep /metrics "
            "off the public proxy."
        ),
    )
    ingest_earliest: date = Field(
        default=date(2000, 1, 1),
        description=(
            "The earliest event time the Segment endpoints accept (UTC). Earlier messages — a "
            "device clock at year 1 or 1970 — are quarantined with the reason, not stored in "
            "a partition of their own."
        ),
    )
    ingest_max_ahead_hours: float = Field(
        default=24,
        ge=0,
        description=(
            "How far past its receipt an event time may be (hours): clocks run a little "
            "ahead, a year 3000 does not. Later messages are quarantined with the reason."
        ),
    )
    refresh_every: int = Field(
        default=60,
        ge=0,
        description=(
            "Seconds between intraday refreshes `tenure serve` runs in a background thread "
            "(metrics and health of accounts with new events); 0 turns them off."
        ),
    )

    @field_validator("secret_key")
    @classmethod
    def _safe_secret_key(cls, value: str | None) -> str | None:
        return None if value is None else check_secret_key(value, "TENURE_SECRET_KEY")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"TENURE_TRUSTED_PROXIES: {item!r} is not an IP address or network "
                    "(names and '*' are not accepted: every client could claim any address)"
                ) from None
        return value

    @cached_property
    def signing_key(self) -> str:
        """The configured secret key, else the one generated in (or read from) data_dir."""
        return self.secret_key or data_dir_secret_key(self.data_dir)

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'tenure.db').resolve()}"

    @property
    def is_postgres(self) -> bool:
        return self.resolved_database_url.startswith("postgresql")


def get_settings() -> Settings:
    return Settings()
