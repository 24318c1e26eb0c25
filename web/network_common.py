"""What the network pages share: labels, the county a page is about, commit-or-refuse."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from flask import Flask, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from sqlalchemy import select

from mam import inputs
from mam.errors import InvalidInput, MamError, NotFound
from mam.models import County, Role
from mam.models.network import CopyMedium, PointKind, Township
from mam.models.release import ScreeningOutcome
from mam.services.network_scope import NetworkScope
from web.extensions import db_session

NETWORK = (Role.ADMIN, Role.COUNTY, Role.TOWNSHIP)
MAINTAINERS = (Role.ADMIN, Role.COUNTY)
KIND_LABELS = {
    PointKind.VILLAGE: lazy_gettext("Village"),
    PointKind.COMMUNITY: lazy_gettext("Urban community"),
    PointKind.ENTERPRISE: lazy_gettext("Non-public enterprise"),
    PointKind.SOCIAL_ORG: lazy_gettext("Social organisation"),
    PointKind.SCHOOL: lazy_gettext("School"),
    PointKind.OTHER: lazy_gettext("Other"),
}
OUTCOME_LABELS = {
    ScreeningOutcome.HELD: lazy_gettext("Held as planned"),
    ScreeningOutcome.MOVED: lazy_gettext("Held, moved"),
    ScreeningOutcome.NOT_HELD: lazy_gettext("Not held"),
}
MEDIUM_LABELS = {CopyMedium.USB: lazy_gettext("USB stick"), CopyMedium.DISC: lazy_gettext("Disc")}


def init_labels(app: Flask) -> None:
    """Give every template the network's labels."""

    @app.context_processor
    def _labels() -> dict[str, object]:
        return {
            "kind_label": lambda k: KIND_LABELS.get(k, k),
            "kind_labels": KIND_LABELS,
            "outcome_label": lambda o: OUTCOME_LABELS.get(o, o),
            "medium_label": lambda m: MEDIUM_LABELS.get(m, m),
        }


def scope() -> NetworkScope:
    return NetworkScope(db_session(), current_user)


def county_for_page() -> County:
    """Return the county a maintenance page is about: the user's, or (admins) ?county=."""
    session = db_session()
    if current_user.has_role(Role.ADMIN):
        wanted = inputs.lenient_id(request.values.get("county"))
        county = session.get(County, wanted) if wanted else None
        county = county or session.scalar(select(County).order_by(County.code).limit(1))
    elif current_user.has_role(Role.COUNTY) and current_user.county_id is not None:
        county = session.get(County, current_user.county_id)
    else:
        county = None
    if county is None:
        abort(404 if current_user.has_role(Role.ADMIN) else 403)
    return county


def own_township() -> Township:
    """Return a township account's own township."""
    if current_user.township_id is None:
        abort(403)
    return scope().township(int(current_user.township_id))


def counties() -> list[County]:
    """Return the counties an admin may switch between (empty for everyone else)."""
    if not current_user.has_role(Role.ADMIN):
        return []
    return list(db_session().scalars(select(County).order_by(County.code)))


def saved(back: str, message: str) -> ResponseReturnValue:
    """Say the request's work is saved (its unit of work commits after the view), go back."""
    flash(message, "info")
    return redirect(back)


def refused(exc: MamError, back: str) -> ResponseReturnValue:
    """Undo the request's work and show why on the page it came from (404s stay 404s)."""
    db_session().rollback()
    if isinstance(exc, NotFound):
        raise exc
    flash(exc.translated(_), "error")
    return redirect(back)


def parse_day(value: object, field: str) -> date:
    """Parse an ISO date from a form (2026-12-01)."""
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InvalidInput(_("Give the date as 2026-12-01."), field=field) from None


def parse_time(value: object) -> time | None:
    """Parse an optional HH:MM from a form."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_("Give the time as 19:30."), field="planned_time") from None


def county_url(endpoint: str, county_id: int) -> str:
    """Return a maintenance page's URL (admins keep the county they are looking at)."""
    extra: dict[str, Any] = {"county": county_id} if current_user.has_role(Role.ADMIN) else {}
    return url_for(endpoint, **extra)
