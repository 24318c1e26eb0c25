"""Every route × every role: refused unless declared (deny by default), whatever the method."""

from __future__ import annotations

import base64
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from mam.models import County, Episode, Role, Version, VersionState
from mam.models.catalogue import Subtitle, UploadSession
from mam.models.network import Township
from mam.models.review import ProgrammeEditor
from mam.services.users import UserService
from tests import factories
from tests.web.conftest import PASSWORD, csrf_from

ROLES = ["anonymous", "producer", "reviewer", "publisher", "county", "township", "admin", "learner"]
STAFF = {"producer", "reviewer", "publisher", "admin"}
NETWORK = {"county", "township", "admin"}
MAINTAIN = {"county", "admin"}
ASSESSORS = {"admin", "publisher", "county", "township"}
# The review, inbox and admin routes, stated independently of their declarations.
EXPECTED: dict[str, set[str]] = {
    "review.version": STAFF,
    "review.comments": STAFF,
    "review.compare": STAFF,
    "review.submit": {"producer", "admin"},
    "review.sign": {"reviewer"},
    "review.request_changes": {"reviewer"},
    "review.waive": {"reviewer"},
    "review.add_comment": {"reviewer", "producer", "admin"},
    "review.resolve": {"reviewer", "producer", "admin"},
    "review.reopen": {"reviewer", "producer", "admin"},
    "inbox.index": STAFF,
    # Exports of the coverage tables (CSV for programs, XLSX for people).
    "releases.utilisation_csv": {"publisher", "admin"},
    "releases.utilisation_xlsx": {"publisher", "admin"},
    "releases.coverage_csv": {"publisher", "admin"},
    "releases.coverage_xlsx": {"publisher", "admin"},
    # Licences: programme editors (producers) and admins keep them; publishers choose uses.
    "licences.save": {"producer", "admin"},
    "licences.remove": {"producer", "admin"},
    "releases.uses": {"publisher", "admin"},
    # The playback network: county staff maintain it, a township account plans and reports.
    "network.index": NETWORK,
    "network.add_township": MAINTAIN,
    "network.township": NETWORK,
    "network.edit_township": MAINTAIN,
    "network.township_active": MAINTAIN,
    "network.delete_township": MAINTAIN,
    "network.add_point": MAINTAIN,
    "network.edit_point": MAINTAIN,
    "network.point_active": MAINTAIN,
    "network.delete_point": MAINTAIN,
    "network.add_organisation": MAINTAIN,
    "network.organisation_active": MAINTAIN,
    "network.add_account": MAINTAIN,
    "network.buildout_page": MAINTAIN,
    "network.import_sheet": MAINTAIN,
    "network.import_confirm": MAINTAIN,
    "plans.focus": NETWORK,
    "plans.save_focus": MAINTAIN,
    "plans.delete_focus": MAINTAIN,
    "plans.plan_month": NETWORK,
    "plans.add_entry": NETWORK,
    "plans.copy_previous": NETWORK,
    "plans.start_from_previous": NETWORK,
    "plans.plan_notes": NETWORK,
    "plans.remove_entry": NETWORK,
    "plans.print_plan": NETWORK,
    "plans.export_plan": NETWORK,
    "screenings.report_list": NETWORK,
    "screenings.report_entry": NETWORK,
    "screenings.report_unplanned": NETWORK,
    "screenings.photo": NETWORK,
    "screenings.copies": NETWORK,
    "screenings.register_copy": NETWORK,
    "screenings.hand_on": NETWORK,
    "screenings.retire_copy": NETWORK,
    # Target assessment: everyone who runs part of the playback network or watches over it.
    "assessment.index": ASSESSORS,
    "assessment.county": ASSESSORS,
    "assessment.township": ASSESSORS,
    "assessment.screenings": ASSESSORS,
    "assessment.screening": ASSESSORS,
    "assessment.export": ASSESSORS,
    # Online learning: the portal is the learner's alone; county staff manage their learners;
    # the HLS routes serve staff and (for their county's films) learners.
    "learn.index": {"learner"},
    "learn.episode": {"learner"},
    "learn.progress": {"learner"},
    "learn.records": {"learner"},
    "learn.poster": {"learner"},
    "learn.subtitle": {"learner"},
    "learners.index": {"county"},
    "learners.create": {"county"},
    "learners.import_sheet": {"county"},
    "learners.export": {"county"},
    "learners.reset_password": {"county"},
    "learners.edit": {"county", "admin"},
    "learners.update": {"county", "admin"},
    "learners.set_active": {"county", "admin"},
    "hls.master": STAFF | {"learner"},
    "hls.variant": STAFF | {"learner"},
    "hls.segment": STAFF | {"learner"},
    "hls.subtitles": STAFF | {"learner"},
    "hls.subtitle_segment": STAFF | {"learner"},
    # Subtitles of a version: every staff role sees them, producers and admins edit.
    "subtitles.track": STAFF,
    "subtitles.cues": STAFF,
    "subtitles.operate": {"producer", "admin"},
    "subtitles.save": {"producer", "admin"},
    "subtitles.upload": {"producer", "admin"},
}
ADMIN_PREFIX = "admin."
ARG = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>")
SKIP = {"static", "auth.logout", "auth.end_sessions"}  # covered in test_auth; they end the session


def _township_account(app: Flask) -> None:
    """Create the ``township`` account (a station of county c1) if it is missing."""
    with app.extensions["mam"].db.session() as s:
        users = UserService(s)
        if users.by_username("township") is not None:
            return
        county = s.scalar(select(County).where(County.code == "c1"))
        station = Township(county_id=county.id, name="矩阵镇")
        s.add(station)
        s.flush()
        user = users.create("township", PASSWORD, [Role.TOWNSHIP], county_code="c1")
        user.township_id = station.id
        s.commit()


def _client(app: Flask, role: str) -> FlaskClient:
    if role == "township":
        _township_account(app)
    client = app.test_client()
    if role != "anonymous":
        token = csrf_from(client.get("/login").get_data(as_text=True))
        response = client.post(
            "/login", data={"username": role, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302
    return client


def _allowed(app: Flask, endpoint: str) -> set[str]:
    if endpoint in EXPECTED:
        return EXPECTED[endpoint]
    if endpoint.startswith(ADMIN_PREFIX):
        return {"admin"}
    declared = getattr(app.view_functions[endpoint], "_mam_allow", frozenset())
    if "public" in declared:
        return set(ROLES)
    return {r.value for r in Role if r in declared}


def test_expected_routes_exist(app: Flask) -> None:
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert set(EXPECTED) <= endpoints
    assert any(e.startswith(ADMIN_PREFIX) for e in endpoints)


def test_declarations_match_the_expected_table(app: Flask) -> None:
    for endpoint, roles in EXPECTED.items():
        declared = getattr(app.view_functions[endpoint], "_mam_allow", frozenset())
        assert {r.value for r in declared} == roles, endpoint


@pytest.mark.parametrize("role", ROLES)
def test_every_route_for_every_role(app: Flask, role: str) -> None:
    client = _client(app, role)
    page = "/login" if role == "anonymous" else "/account"
    token = csrf_from(client.get(page).get_data(as_text=True))  # so CSRF is not the gate
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP:
            continue
        url = ARG.sub(lambda m: "999999" if m.group(1) == "int" else "x", rule.rule)
        allowed = role in _allowed(app, rule.endpoint)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": token} if method != "GET" else None
            response = client.open(url, method=method, data=data)
            status = response.status_code
            response.close()
            checked += 1
            where = f"{method} {url} as {role}"
            if allowed:
                assert status != 403, where
            elif role == "anonymous":
                assert status in (302, 401), where
            else:
                assert status == 403, where
    assert checked > 10


# ---- programme edit rights: every path that changes an episode or adds a version ------------

EDIT_ACTORS = {
    "producer": True,  # the programme's responsible producer
    "editor": True,  # named as an editor of the programme
    "admin": True,
    "stranger": False,  # a producer of other programmes
    "reviewer": False,
}


def _edit_world(app: Flask) -> tuple[int, int]:
    """A ready version of 时代风采, whose producer is ``producer`` and editor ``editor``."""
    runtime = app.extensions["mam"]
    with runtime.db.session() as s:
        users = UserService(s)
        for name in ("editor", "stranger"):
            users.create(name, PASSWORD, [Role.PRODUCER], display_name=f"{name}-显示名")
        v = factories.version(s, VersionState.READY, title="基层党建")
        v.asset.media_info = {"container": "mp4", "duration": 2.0, "video": [], "audio": []}
        programme = v.episode.programme
        programme.producer_id = users.by_username("producer").id  # type: ignore[union-attr]
        s.flush()
        s.add(
            ProgrammeEditor(programme_id=programme.id, user_id=users.by_username("editor").id)  # type: ignore[union-attr]
        )
        s.commit()
        return v.episode_id, v.id


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


@pytest.mark.parametrize("actor", sorted(EDIT_ACTORS))
def test_programme_edit_paths_for_every_actor(app: Flask, actor: str) -> None:
    episode_id, version_id = _edit_world(app)
    client = _client(app, actor)
    token = csrf_from(client.get("/account").get_data(as_text=True))
    ajax = {"X-CSRFToken": token}
    tus = {**ajax, "Tus-Resumable": "1.0.0", "Upload-Length": "1000"}
    srt = (io.BytesIO("1\n00:00:00,000 --> 00:00:01,000\n字幕\n".encode()), "a.srt")
    attempts = {
        "metadata form": client.post(
            f"/episodes/{episode_id}/metadata",
            data={"csrf_token": token, "title": "改名", "synopsis": "改写"},
        ),
        "API PATCH": client.patch(
            f"/api/v1/episodes/{episode_id}", json={"title": "改名2"}, headers=ajax
        ),
        "subtitles": client.post(
            f"/episodes/{episode_id}/subtitles",
            data={"csrf_token": token, "file": srt},
            content_type="multipart/form-data",
        ),
        "tus creation": client.post(
            "/upload/files",
            headers={
                **tus,
                "Upload-Metadata": f"filename {_b64('b.mp4')},episode_id {_b64(str(episode_id))}",
            },
        ),
        "API upload": client.post(
            "/api/v1/uploads",
            json={"length": 1000, "filename": "b.mp4", "episode_id": episode_id},
            headers=ajax,
        ),
        "submit": client.post(
            f"/review/versions/{version_id}/submit", data={"csrf_token": token}
        ),
    }
    statuses = {path: r.status_code for path, r in attempts.items()}
    runtime = app.extensions["mam"]
    with runtime.db.session() as s:
        episode = s.get_one(Episode, episode_id)
        state = s.get_one(Version, version_id).state
        subtitles = s.scalar(select(func.count()).select_from(Subtitle))
        uploads = s.scalar(select(func.count()).select_from(UploadSession))
    if EDIT_ACTORS[actor]:
        assert all(code < 400 for code in statuses.values()), statuses
        assert episode.title == "改名2" and episode.synopsis == "改写"
        assert (state, subtitles, uploads) == (VersionState.IN_REVIEW, 1, 2)
    else:
        assert set(statuses.values()) == {403}, statuses
        assert (episode.title, episode.synopsis) == ("基层党建", "")
        assert (state, subtitles, uploads) == (VersionState.READY, 0, 0)
        if actor == "stranger":  # told why, and who may
            for path in ("metadata form", "API PATCH", "tus creation", "API upload"):
                r = attempts[path]
                body = r.json["error"] if r.is_json else r.get_data(as_text=True)  # type: ignore[index]
                assert "producer-显示名" in body and "editor-显示名" in body, path
