"""Domain messages (codes of ``mam.messages`` with parameters) in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_babel import gettext

from mam.errors import MamError
from mam.i18n import render
from mam.messages import REGISTRY, all_messages, render_stored
from mam.models import Job
from mam.services.catalogue import version_failure
from web.templating import profile_name


def translate(text: str) -> str:
    """Return ``text`` in the request's language (a gettext for mam.messages)."""
    return str(gettext(text))


# Parameters that hold distribution profile names ("broadcast, mobile"): shown by their
# names in the reader's language (mam.profile_labels), stored as the profiles file names them.
PROFILE_PARAMS = ("profile", "profiles", "output", "outputs")


def profile_names(names: str | list[str] | tuple[str, ...]) -> str:
    """Return profile names (a list, or joined with ", ") by their names for the reader."""
    items = names.split(", ") if isinstance(names, str) else list(names)
    return str(gettext(", ")).join(profile_name(n.strip()) for n in items if n.strip())


def _shown(params: Mapping[str, Any] | None) -> dict[str, Any]:
    shown = dict(params or {})
    for key in PROFILE_PARAMS:
        if isinstance(shown.get(key), str):
            shown[key] = profile_names(shown[key])
    return shown


def said(code: str | None, params: Mapping[str, Any] | None, fallback: str | None = None) -> str:
    """Return a stored message (code + parameters) translated; older rows show ``fallback``."""
    return render_stored(code, _shown(params), fallback, translate)


def finding_text(finding: Mapping[str, Any] | str) -> str:
    """Return a QC finding (or a failed finding as the review service lists it) translated:
    by its code, else by the template older reports stored, else its English message."""
    if isinstance(finding, str):
        return finding
    english = str(finding.get("message") or finding.get("check") or "")
    if finding.get("code") in REGISTRY or not finding.get("template"):
        return said(finding.get("code"), finding.get("params"), english)
    return render(str(finding["template"]), _shown(finding.get("params")), translate)


def job_error(job: Job) -> str:
    """Return why ``job`` failed, translated ('' when it did not)."""
    return said(job.error_code, job.error_params, job.last_error)


def job_error_detail(job: Job) -> str:
    """Return the technical detail of a job's failure (a tool's own words), if any."""
    return str((job.error_params or {}).get("detail") or "")


def error_body(exc: MamError, status: int | None = None) -> dict[str, Any]:
    """Return the JSON an API client gets for a refused request.

    ``code`` and ``params`` are stable; ``message`` is in the request's language;
    ``error`` repeats ``message`` for older clients; ``detail`` is a technical detail.
    """
    message = render(exc.template, _shown(exc.params), translate)
    body: dict[str, Any] = {
        "error": message,
        "status": status or exc.http_status,
        "code": exc.code,
        "params": {k: v for k, v in exc.params.items() if _plain(v)},
        "message": message,
    }
    if exc.detail:
        body["detail"] = exc.detail
    return body


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | dict)


def init_app(app: Flask) -> None:
    """Make the helpers available to templates."""
    all_messages()  # every code registered before the first page
    app.add_template_global(said, "said")
    app.add_template_global(finding_text, "finding_text")
    app.add_template_global(profile_names, "profile_names")
    app.add_template_global(job_error, "job_error")
    app.add_template_global(job_error_detail, "job_error_detail")
    app.add_template_global(version_failure, "version_failure")
