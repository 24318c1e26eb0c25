"""Template helpers: translated labels for domain values, and formatting filters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, url_for
from flask_babel import format_datetime, get_locale, lazy_gettext
from flask_login import current_user

from mam.models import JobState, Role, SourceType, VersionState
from mam.models.release import PackageKind, PackageState, ReleaseState
from web.auth import STAFF, home_for

STATE_LABELS = {
    VersionState.UPLOADED: lazy_gettext("Uploaded"),
    VersionState.PROCESSING: lazy_gettext("Processing"),
    VersionState.READY: lazy_gettext("Ready"),
    VersionState.FAILED: lazy_gettext("Failed"),
    VersionState.IN_REVIEW: lazy_gettext("In review"),
    VersionState.CHANGES_REQUESTED: lazy_gettext("Changes requested"),
    VersionState.APPROVED: lazy_gettext("Approved"),
    VersionState.RELEASED: lazy_gettext("Released"),
    VersionState.WITHDRAWN: lazy_gettext("Withdrawn"),
    VersionState.SUPERSEDED: lazy_gettext("Superseded"),
}
SOURCE_LABELS = {
    SourceType.SELF: lazy_gettext("Self-produced"),
    SourceType.IMPORTED: lazy_gettext("Imported"),
    SourceType.GENERAL: lazy_gettext("General teaching material"),
}
JOB_LABELS = {
    JobState.QUEUED: lazy_gettext("Queued"),
    JobState.RUNNING: lazy_gettext("Running"),
    JobState.SUCCEEDED: lazy_gettext("Succeeded"),
    JobState.FAILED: lazy_gettext("Failed"),
}
ROLE_LABELS = {
    Role.PRODUCER: lazy_gettext("Producer"),
    Role.REVIEWER: lazy_gettext("Reviewer"),
    Role.PUBLISHER: lazy_gettext("Publisher"),
    Role.COUNTY: lazy_gettext("County centre"),
    Role.ADMIN: lazy_gettext("Administrator"),
    Role.LEARNER: lazy_gettext("Learner"),
    Role.SYSTEM: lazy_gettext("System"),
}
RELEASE_STATE_LABELS = {
    ReleaseState.DRAFT: lazy_gettext("Draft"),
    ReleaseState.PUBLISHED: lazy_gettext("Published"),
    ReleaseState.WITHDRAWN: lazy_gettext("Withdrawn"),
}
PACKAGE_STATE_LABELS = {
    PackageState.QUEUED: lazy_gettext("Queued"),
    PackageState.BUILDING: lazy_gettext("Building"),
    PackageState.READY: lazy_gettext("Ready to download"),
    PackageState.FAILED: lazy_gettext("Failed"),
}
PACKAGE_KIND_LABELS = {
    PackageKind.TV: lazy_gettext("TV broadcast (1080p)"),
    PackageKind.PLAYBACK: lazy_gettext("Village playback (MP4)"),
    PackageKind.WEB: lazy_gettext("Online learning (HLS)"),
}
FIELD_ORDER_LABELS = {
    "progressive": lazy_gettext("progressive"),
    "tt": lazy_gettext("interlaced, top field first"),
    "tb": lazy_gettext("interlaced, top field first"),
    "bb": lazy_gettext("interlaced, bottom field first"),
    "bt": lazy_gettext("interlaced, bottom field first"),
    "unknown": lazy_gettext("scan type unknown"),
}


def filesize(num: float | None) -> str:
    """Format a byte count (1 KB = 1000 B, as disks and networks count)."""
    if num is None:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if abs(num) < 1000:
            return f"{num:.0f} {unit}" if unit == "B" else f"{num:.1f} {unit}"
        num /= 1000
    return f"{num:.1f} TB"


def timecode(seconds: float | None) -> str:
    """Format seconds as H:MM:SS.s."""
    if seconds is None:
        return ""
    hours, rest = divmod(float(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours)}:{int(minutes):02d}:{secs:04.1f}"


def init_app(app: Flask) -> None:
    """Register filters and globals."""
    app.add_template_filter(filesize, "filesize")
    app.add_template_filter(timecode, "timecode")

    @app.template_filter("datetime")
    def _datetime(value: datetime | None) -> str:
        return format_datetime(value, "medium") if value else ""

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "current_lang": get_locale().language if get_locale() else "zh",
            "is_staff": lambda: current_user.is_authenticated and current_user.has_role(*STAFF),
            "home_url": lambda: home_for(current_user.roles)
            if current_user.is_authenticated
            else url_for("auth.login"),
            "state_label": lambda s: STATE_LABELS.get(s, s),
            "source_label": lambda s: SOURCE_LABELS.get(s, s),
            "job_state_label": lambda s: JOB_LABELS.get(s, s),
            "job_state_labels": lambda: {s.value: str(label) for s, label in JOB_LABELS.items()},
            "role_label": lambda r: ROLE_LABELS.get(r, r),
            "field_order_label": lambda f: FIELD_ORDER_LABELS.get(f, f),
            "release_state_label": lambda s: RELEASE_STATE_LABELS.get(s, s),
            "package_state_label": lambda s: PACKAGE_STATE_LABELS.get(s, s),
            "package_kind_label": lambda k: PACKAGE_KIND_LABELS.get(k, k),
        }
