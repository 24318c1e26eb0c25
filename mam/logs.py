"""Log lines as text or JSON (``MAM_LOG_FORMAT``), each carrying the request id and job id."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from typing import IO

from mam.config import Settings

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
job_id: ContextVar[int | None] = ContextVar("job_id", default=None)
task_id: ContextVar[str | None] = ContextVar("task_id", default=None)
FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
RENAME = {"asctime": "time", "levelname": "level", "name": "logger"}


class ContextFilter(logging.Filter):
    """Put the current request id, job id and task id on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.job_id = job_id.get()
        record.task_id = task_id.get()
        return True


def json_formatter() -> logging.Formatter:
    """Return a formatter writing one JSON object per line (python-json-logger)."""
    from pythonjsonlogger.json import JsonFormatter  # noqa: PLC0415

    return JsonFormatter(
        FIELDS + " %(request_id)s %(job_id)s %(task_id)s",
        rename_fields=RENAME,
        json_ensure_ascii=False,
    )


def use_json(handler: logging.Handler) -> None:
    """Make ``handler`` write JSON lines with the context ids."""
    handler.setFormatter(json_formatter())
    if not any(isinstance(f, ContextFilter) for f in handler.filters):
        handler.addFilter(ContextFilter())


def configure_logging(
    settings: Settings, *, level: int = logging.INFO, stream: IO[str] | None = None
) -> bool:
    """With ``MAM_LOG_FORMAT=json``, send the root logger's lines as JSON; return whether."""
    fmt = settings.log_format.strip().lower()
    if fmt not in ("json", "text"):
        raise ValueError(f"MAM_LOG_FORMAT must be 'json' or 'text', not {settings.log_format!r}")
    if fmt != "json":
        return False
    root = logging.getLogger()
    handler = logging.StreamHandler(stream or sys.stderr)
    use_json(handler)
    root.handlers = [handler]
    root.setLevel(min(root.level or level, level) if root.level else level)
    return True
