"""JSON API for release sets (``/api/v1/releases``): sets, episodes, packages, receipts.

Publishers and admins see every set; a county account sees only the published (or
withdrawn) sets aimed at its county, exactly as on ``/county/``. Tokens with the narrow
``county:download`` scope may use these endpoints as well as full ``api`` tokens.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from mam.errors import NotFound
from mam.messages import release as release_messages
from mam.models import Role
from mam.models.release import Receipt, ReleasePackage, ReleaseSet
from mam.services.county_distribution import CountyDistribution
from mam.services.tokens import SCOPE_API, SCOPE_COUNTY
from web import api_schemas
from web.api_schemas import ReleaseQuery
from web.auth import allow
from web.county import episode_duration, package_dict
from web.extensions import csrf, db_session
from web.tokens import accepts_token, require_csrf

bp = Blueprint("api_releases", __name__, url_prefix="/api/v1")
READERS = (Role.COUNTY, Role.PUBLISHER, Role.ADMIN)
SCOPES = (SCOPE_API, SCOPE_COUNTY)


def _service() -> CountyDistribution:
    return CountyDistribution(db_session())


def _county_user() -> bool:
    return bool(current_user.has_role(Role.COUNTY) and not current_user.has_role(*READERS[1:]))


def _visible(release_id: int) -> ReleaseSet:
    release = db_session().get(ReleaseSet, release_id)
    if release is None or not _service().visible_to(release, current_user):
        raise NotFound(release_messages.SET_MISSING, params={"id": release_id})
    return release


def _receipted(release_ids: list[int]) -> set[int]:
    if current_user.county_id is None or not release_ids:
        return set()
    return set(
        db_session().scalars(
            select(Receipt.release_id).where(
                Receipt.county_id == current_user.county_id, Receipt.release_id.in_(release_ids)
            )
        )
    )


def release_summary(r: ReleaseSet, receipted: set[int]) -> dict[str, Any]:
    """Return the list form of a release set."""
    body: dict[str, Any] = {
        "id": r.id,
        "name": r.name,
        "state": r.state.value,
        "notes": r.notes,
        "published_at": r.published_at.isoformat() if r.published_at else None,
        "withdrawn_reason": r.withdrawn_reason,
        "episodes": len(r.items),
        "packages": [package_dict(p) for p in _service().packages_for(r, current_user)],
        "url": url_for("api_releases.release", release_id=r.id, _external=True),
    }
    if current_user.county_id is not None:
        body["receipt_confirmed"] = r.id in receipted
    return body


def _episode(release: ReleaseSet, item: Any) -> dict[str, Any]:
    v, ep = item.version, item.episode
    poster = v.rendition("poster")
    return {
        "position": item.position,
        "episode_id": ep.id,
        "title": ep.title,
        "number": ep.number,
        "programme": ep.programme.name,
        "synopsis": ep.synopsis,
        "version": {"id": v.id, "number": v.number, "sha256": v.asset.sha256},
        "duration": episode_duration(v),
        "poster_url": url_for(
            "county.poster", release_id=release.id, version_id=v.id, _external=True
        )
        if poster
        else None,
    }


@bp.route("/releases")
@allow(*READERS)
@accepts_token(*SCOPES)
def releases() -> ResponseReturnValue:
    """List the release sets the caller may see, newest first."""
    sent = {k: v for k, v in request.args.items() if v}  # state= (empty) means any
    chosen = api_schemas.load(ReleaseQuery(), sent, what="parameter").get("state")
    state = chosen.value if chosen else None
    if _county_user():
        rows = _service().for_county(int(current_user.county_id))
    else:
        rows = list(db_session().scalars(select(ReleaseSet).order_by(ReleaseSet.id.desc())))
    if state:
        rows = [r for r in rows if r.state.value == state]
    receipted = _receipted([r.id for r in rows])
    return jsonify(releases=[release_summary(r, receipted) for r in rows])


@bp.route("/releases/<int:release_id>")
@allow(*READERS)
@accepts_token(*SCOPES)
def release(release_id: int) -> ResponseReturnValue:
    """Return a release set with its episodes (title, synopsis, duration, poster) and packages."""
    r = _visible(release_id)
    body = release_summary(r, _receipted([r.id]))
    body["episodes"] = [_episode(r, item) for item in r.items]
    if not _county_user():
        body["counties"] = [
            {"id": c.id, "code": c.code, "name": c.name} for c in _service().target_counties(r)
        ]
    return jsonify(body)


@bp.route("/releases/<int:release_id>/packages")
@allow(*READERS)
@accepts_token(*SCOPES)
def packages(release_id: int) -> ResponseReturnValue:
    """List a release set's packages: kind, state, size, SHA-256 and download URL."""
    release = _visible(release_id)
    shown = _service().packages_for(release, current_user)
    return jsonify(packages=[package_dict(p) for p in shown])


@bp.route("/packages/<int:package_id>")
@allow(*READERS)
@accepts_token(*SCOPES)
def package(package_id: int) -> ResponseReturnValue:
    """Return one package."""
    row = db_session().get(ReleasePackage, package_id)
    if row is None or row not in _service().packages_for(row.release, current_user):
        raise NotFound(release_messages.PACKAGE_MISSING, params={"id": package_id})
    return jsonify(package_dict(row) | {"release_id": row.release_id})


@bp.route("/releases/<int:release_id>/receipt", methods=["POST"])
@allow(Role.COUNTY)
@accepts_token(*SCOPES)
@csrf.exempt
def confirm_receipt(release_id: int) -> ResponseReturnValue:
    """Confirm that the caller's county received the set (201 the first time, then 200)."""
    require_csrf()
    service = _service()
    before = _receipted([release_id])
    receipt = service.confirm_receipt(_visible(release_id), current_user)
    return jsonify(
        release_id=release_id,
        county_id=receipt.county_id,
        confirmed_at=receipt.confirmed_at.isoformat(),
    ), (200 if before else 201)
