"""The licence form of an episode (or of its programme), and licence badges for every page.

Producers who may edit the programme, and admins, save or remove a licence; publishers and
reviewers see it. A refusal (a bad date, no use chosen) is flashed and loses nothing else;
an act the user may not do is a 403 with the reason. The rule itself is the domain's
(``mam.services.licences``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from mam import inputs
from mam.errors import MamError, NotAllowed
from mam.messages import licence as msg
from mam.models import County, Episode, Role
from mam.models.licence import USES
from mam.services import metadata
from mam.services.edit_rights import may_edit_programme
from mam.services.licences import LicenceForm, LicenceService, today
from web.auth import allow
from web.extensions import db_session

bp = Blueprint("licences", __name__)
EDITORS = (Role.PRODUCER, Role.ADMIN)


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    def licence_of(episode: Episode) -> dict[str, Any]:
        """What the licence card shows: both licences, the governing one, its state."""
        s = db_session()
        service = LicenceService(s)
        own, inherited = service.own(episode), service.of_programme(episode.programme)
        editable = current_user.has_role(*EDITORS) and may_edit_programme(
            s, current_user, episode.programme
        )
        return {
            "own": own,
            "programme": inherited,
            "governing": own or inherited,
            "state": service.state(episode),
            "counties": s.scalars(select(County).order_by(County.code)).all(),
            "uses": USES,
            "editable": editable,
        }

    def licence_state(episode: Episode) -> str:
        return LicenceService(db_session()).state(episode)

    return {
        "licence_of": licence_of,
        "licence_state": licence_state,
        "licence_state_label": lambda state: _(msg.STATE_NAMES.get(state, state)),
        "licence_use_label": lambda use: _(msg.USE_NAMES.get(use, use)),
        "licence_today": today,
    }


def _scope(episode: Episode) -> dict[str, Any]:
    if request.form.get("scope") == "programme":
        return {"programme": episode.programme}
    return {"episode": episode}


def _back(episode_id: int) -> ResponseReturnValue:
    return redirect(url_for("catalogue.episode", episode_id=episode_id) + "#licence")


@bp.route("/episodes/<int:episode_id>/licence", methods=["POST"])
@allow(*EDITORS)
def save(episode_id: int) -> ResponseReturnValue:
    """Save the licence of the episode, or of its programme (``scope=programme``)."""
    s = db_session()
    episode = metadata.episode_or_404(s, episode_id)
    form = LicenceForm(
        holder=request.form.get("holder", ""),
        contract_ref=request.form.get("contract_ref", ""),
        starts_on=request.form.get("starts_on", ""),
        ends_on=request.form.get("ends_on", ""),
        uses=tuple(request.form.getlist("uses")),
        all_counties=bool(request.form.get("all_counties")),
        county_ids=tuple(inputs.ids(request.form.getlist("county"))),
        notes=request.form.get("notes", ""),
    )
    try:
        LicenceService(s).save(current_user, form, **_scope(episode))
        s.flush()
    except MamError as exc:
        s.rollback()
        if isinstance(exc, NotAllowed):
            raise  # a 403 page naming who may edit
        flash(_("Licence not saved: %(reason)s", reason=exc.translated(_)), "error")
    else:
        flash(_("Licence saved."), "info")
    return _back(episode_id)


@bp.route("/episodes/<int:episode_id>/licence/delete", methods=["POST"])
@allow(*EDITORS)
def remove(episode_id: int) -> ResponseReturnValue:
    """Remove the episode's (or its programme's) licence."""
    s = db_session()
    episode = metadata.episode_or_404(s, episode_id)
    LicenceService(s).remove(current_user, **_scope(episode))
    flash(_("Licence removed."), "info")
    return _back(episode_id)
