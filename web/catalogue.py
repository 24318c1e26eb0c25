"""Catalogue pages: programmes with their episodes, and one episode with its player."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from mam.models import VersionState
from mam.services.catalogue import CatalogueService
from web.auth import STAFF, allow
from web.extensions import db_session

bp = Blueprint("catalogue", __name__)
BUSY = (VersionState.UPLOADED, VersionState.PROCESSING)


@bp.route("/")
@allow(*STAFF)
def index() -> ResponseReturnValue:
    """List programmes and their episodes with poster, state and progress."""
    programmes = CatalogueService(db_session()).programmes()
    return render_template("catalogue.html", programmes=programmes, busy=BUSY)


@bp.route("/episodes/<int:episode_id>")
@allow(*STAFF)
def episode(episode_id: int) -> ResponseReturnValue:
    """Show an episode: the newest version's proxy in a player, its metadata and jobs."""
    ep = CatalogueService(db_session()).episode(episode_id)
    version = ep.latest_version
    return render_template("episode.html", episode=ep, version=version, busy=BUSY)
