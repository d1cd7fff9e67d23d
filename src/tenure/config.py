"""Deployment settings: where the stores live, secrets, the server's address.

Domain thresholds (scorecards, rules, fit criteria) live in documented YAML, not here.
Every setting reads a ``TENURE_*`` environment variable.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    secret_key: str = Field(
        default="change-me-in-production",
        description="Signs session cookies and survey links; set a long random value in production.",
    )
    host: str = Field(default="127.0.0.1", description="Address `tenure serve` binds.")
    port: int = Field(default=8000, description="Port `tenure serve` binds.")

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
