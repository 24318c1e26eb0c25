"""Web fixtures: the app on a temp runtime, users with real passwords, a processed version."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mam.models import Role
from mam.runtime import Runtime
from mam.services.ingest import IngestService
from mam.services.processing import ProcessingService
from mam.services.users import UserService

# The county fixtures (a published set with a ready package, on local storage and S3).
from tests.web.county_fixtures import backend_runtime, county_s3_runtime, world  # noqa: F401
from web import create_app

PASSWORD = "correct horse battery"


@pytest.fixture
def app(runtime: Runtime) -> Flask:
    app = create_app({"TESTING": True}, runtime=runtime)
    with runtime.db.session() as s:
        users = UserService(s)
        users.ensure_county("c1", "甲县")
        users.ensure_county("c2", "乙县")
        for name, role in [
            ("producer", Role.PRODUCER),
            ("reviewer", Role.REVIEWER),
            ("publisher", Role.PUBLISHER),
            ("admin", Role.ADMIN),
        ]:
            users.create(name, PASSWORD, [role], display_name=f"{name}-显示名")
        users.create("county", PASSWORD, [Role.COUNTY], county_code="c1")
        # Online learning: a learner of c1 (learners made by county staff sign in with their
        # phone number; any username works for the route tables).
        users.create("learner", PASSWORD, [Role.LEARNER], county_code="c1")
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def login(client: FlaskClient) -> Callable[[str], FlaskClient]:
    def do(username: str) -> FlaskClient:
        token = csrf_from(client.get("/login").get_data(as_text=True))
        response = client.post(
            "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return do


def process_now(
    runtime: Runtime, path: Path, *, programme: str = "时代风采", title: str = "示范片"
) -> int:
    """Ingest ``path`` and process it in-process; return the version id."""
    from workers.pipeline import process_source

    with runtime.db.session() as s:
        version = IngestService(s, runtime.storage).ingest_file(
            path, programme=programme, title=title
        )
        service = ProcessingService(s, runtime.storage)
        plan = service.begin(version.version.id, worker="test")
        assert plan is not None
        process_source(
            plan,
            runtime.storage,
            runtime.settings,
            on_progress=lambda p: None,
            publish=lambda outs: service.publish(plan, outs),
        )
        return plan.version_id


@pytest.fixture
def ready_version(runtime: Runtime, fresh_clip: Path) -> int:
    return process_now(runtime, fresh_clip)
