"""Catalogue pages: programmes with their episodes, and one episode with its player."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from mam import inputs
from mam.models import Role, VersionState
from mam.search import MAX_PAGE, SearchQuery
from mam.search import search as search_episodes
from mam.search_subtitles import search_cues
from mam.services.catalogue import CatalogueService
from mam.services.licences import LicenceService
from web.auth import STAFF, allow, home_for
from web.extensions import db_session

bp = Blueprint("catalogue", __name__)
BUSY = (VersionState.UPLOADED, VersionState.PROCESSING)


@bp.route("/")
@allow(*Role)
def index() -> ResponseReturnValue:
    """List programmes and their episodes with poster, state and progress.

    The site's address is everyone's front door: a county, township or learner account is
    sent on to its own home page instead of being refused."""
    if not current_user.has_role(*STAFF):
        return redirect(home_for(current_user.roles))
    programmes = CatalogueService(db_session()).programmes()
    states = LicenceService(db_session()).states(e for p in programmes for e in p.episodes)
    return render_template(
        "catalogue.html", programmes=programmes, busy=BUSY, licence_states=states
    )


@bp.route("/episodes/<int:episode_id>")
@allow(*STAFF)
def episode(episode_id: int) -> ResponseReturnValue:
    """Show an episode: the newest version's proxy in a player, its metadata and jobs."""
    ep = CatalogueService(db_session()).episode(episode_id)
    version = ep.latest_version
    return render_template("episode.html", episode=ep, version=version, busy=BUSY)


def _int_arg(name: str, maximum: int = inputs.MAX_ID) -> int | None:
    return inputs.optional_int(request.args.get(name), name, minimum=1, maximum=maximum)


@bp.route("/search")
@allow(*STAFF)
def search() -> ResponseReturnValue:
    """Search episodes by Chinese text with facets (programme, topic, source, state, year)."""
    q = SearchQuery(
        text=inputs.optional_text(request.args.get("q"), "q", 200),
        programme_id=_int_arg("programme"),
        topic_id=_int_arg("topic"),
        source=request.args.get("source") or None,
        state=request.args.get("state") or None,
        year=_int_arg("year", 9999),
        licence=request.args.get("licence") or None,
        page=_int_arg("page", MAX_PAGE) or 1,
    )
    result = search_episodes(db_session(), q)
    said = search_cues(db_session(), q.text) if q.text and q.page == 1 else []
    return render_template("catalogue_search.html", q=q, result=result, said=said, busy=BUSY)
