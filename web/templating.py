"""Template helpers: translated labels for domain values, and formatting filters."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask import Flask, url_for
from flask_babel import format_datetime, get_locale, gettext, lazy_gettext
from flask_login import current_user

from mam.audit import ObjectType, state_label
from mam.machines import machine_for
from mam.models import JobState, Role, SourceType, VersionState
from mam.models.release import PackageKind, PackageState, ReleasePackage, ReleaseState
from mam.profile_labels import describe, profile_label
from mam.services.packaging import package_contents
from web.auth import STAFF, home_for
from web.extensions import runtime


def _state_labels(states: type[enum.Enum], object_type: ObjectType) -> dict[Any, Any]:
    """Translated names of a model's states, from the one list the domain keeps."""
    return {s: lazy_gettext(state_label(object_type, s.value)) for s in states}


STATE_LABELS = _state_labels(VersionState, ObjectType.VERSION)
SOURCE_LABELS = {
    SourceType.SELF: lazy_gettext("Self-produced"),
    SourceType.IMPORTED: lazy_gettext("Imported"),
    SourceType.GENERAL: lazy_gettext("General teaching material"),
}
JOB_LABELS = _state_labels(JobState, ObjectType.JOB)
ROLE_LABELS = {
    Role.PRODUCER: lazy_gettext("Producer"),
    Role.REVIEWER: lazy_gettext("Reviewer"),
    Role.PUBLISHER: lazy_gettext("Publisher"),
    Role.COUNTY: lazy_gettext("County centre"),
    Role.TOWNSHIP: lazy_gettext("Township station"),
    Role.ADMIN: lazy_gettext("Administrator"),
    Role.LEARNER: lazy_gettext("Learner"),
    Role.SYSTEM: lazy_gettext("System"),
}
RELEASE_STATE_LABELS = _state_labels(ReleaseState, ObjectType.RELEASE_SET)
PACKAGE_STATE_LABELS = _state_labels(PackageState, ObjectType.PACKAGE)
PACKAGE_KIND_LABELS = {
    PackageKind.TV: lazy_gettext("TV broadcast"),
    PackageKind.PLAYBACK: lazy_gettext("Village playback"),
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


def may(obj: Any, event: str) -> bool:
    """Say whether the signed-in user's roles may fire ``event`` on ``obj`` in its state now
    (the buttons come from the transition tables, never from a second copy of the rules)."""
    if not current_user.is_authenticated:
        return False
    allowed = machine_for(obj).allowed_events(obj.state, current_user.roles)
    return any(e.value == event for e in allowed)


def profile_name(name: str) -> str:
    """Return a distribution profile's name in the reader's language (profiles file first)."""
    locale = str(get_locale() or "zh_CN")
    return profile_label(name, locale, gettext, runtime().settings.profiles)


def package_label(package: ReleasePackage) -> str:
    """Return a package's name with what its files really hold (``电视台播出版（1280×720 H.264
    8.0 Mb/s）``), read from the renditions of the set's episodes."""
    label = str(PACKAGE_KIND_LABELS.get(package.kind, package.kind.value))
    if package.county is not None:  # made for one county (its own logo)
        label = gettext("%(label)s for %(county)s", label=label, county=package.county.name)
    held = [describe(r) for r in package_contents(package.release, package.kind).values()]
    held = [h for h in held if h]
    if not held:
        return label
    return gettext("%(label)s (%(contents)s)", label=label, contents=gettext("; ").join(held))


def package_state_for_counties(package: ReleasePackage) -> str:
    """Return a package's state as a county sees it: only a published set's ready package
    can be downloaded; after a withdrawal none can."""
    if package.release.state is ReleaseState.WITHDRAWN:
        return str(gettext("Withdrawn: counties can no longer download it"))
    return str(PACKAGE_STATE_LABELS.get(package.state, package.state))


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
            "may": may,
            "package_label": package_label,
            "package_state_for_counties": package_state_for_counties,
            "profile_name": profile_name,
        }
