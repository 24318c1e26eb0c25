"""One QC finding: its code, parameters, English message and template (pure).

Pages render ``code`` (``mam.messages.qc``) with ``params`` in the reader's language; the
``template`` is kept for reports written before codes, the English ``message`` for logs.
"""

from __future__ import annotations

from typing import Any

from mam.messages import Message


def _round(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value


def finding(
    check: str,
    severity: str,
    said_: Message,
    params: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return one finding: its code, parameters, English message and template, and data."""
    item: dict[str, Any] = {"check": check, "severity": severity, **said(said_, params)}
    item.update({k: _round(v) for k, v in extra.items()})
    return item


def said(message: Message, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return ``message`` with ``params`` as stored: code, params, template, English text."""
    params = {k: _round(v) for k, v in (params or {}).items()}
    return {
        "code": message.code,
        "params": params,
        "template": message.template,
        "message": message.template % params if params else message.template,
    }


def timecode(seconds: float) -> str:
    """Return H:MM:SS.mmm."""
    millis = round(max(seconds, 0.0) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours}:{minutes:02d}:{millis / 1000:06.3f}"
