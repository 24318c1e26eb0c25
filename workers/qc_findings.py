"""One QC finding: its English message, the template and parameters it came from (pure).

Pages translate ``template`` and fill in ``params`` in the reader's language; the
English ``message`` is for logs and the CLI.
"""

from __future__ import annotations

from typing import Any


def _round(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value


def finding(
    check: str,
    severity: str,
    template: str,
    params: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return one finding: English message, its template and parameters, and data."""
    params = {k: _round(v) for k, v in (params or {}).items()}
    item: dict[str, Any] = {
        "check": check,
        "severity": severity,
        "message": template % params if params else template,
        "template": template,
        "params": params,
    }
    item.update({k: _round(v) for k, v in extra.items()})
    return item


def timecode(seconds: float) -> str:
    """Return H:MM:SS.mmm."""
    millis = round(max(seconds, 0.0) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours}:{minutes:02d}:{millis / 1000:06.3f}"
