"""Logs a machine can read: one JSON object per line, each carrying the request id it belongs to.

``tenure serve`` logs JSON when stderr is not a terminal (systemd's journal, a container runtime,
a log shipper: the readers are programs) and plain text on a terminal (the reader is a person);
``TENURE_LOG_FORMAT`` overrides either way. The request id is the client's ``X-Request-ID`` when
it sent a sane one (a proxy's id then follows the request through both logs), else a new one;
the HTTP middleware sets it for the duration of the request and echoes it in the answer.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["auto", "json", "text"]

request_id: ContextVar[str | None] = ContextVar("tenure_request_id", default=None)

# What a LogRecord carries on its own; anything else was passed with ``extra=`` and is logged.
# uvicorn's color_message repeats the message with terminal colour codes.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", …extra, "exception"}`` per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = request_id.get()
        if current is not None:
            entry["request_id"] = current
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def resolve_format(log_format: LogFormat) -> Literal["json", "text"]:
    if log_format == "auto":
        return "text" if sys.stderr.isatty() else "json"
    return log_format


def logging_config(log_format: LogFormat) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn's ``log_config`` (applied in every worker)."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"}
        if resolve_format(log_format) == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": "INFO"},
        # uvicorn's own loggers propagate to the root handler, formatted like everything else.
        "loggers": {
            name: {"handlers": [], "level": "INFO", "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
