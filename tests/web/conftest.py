"""Web fixtures: the app on a temp runtime, users with real passwords, a processed version."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.models import County, Role, User, UserRole
from mam.models.network import Township
from mam.runtime import Runtime
from mam.services.ingest import IngestService
from mam.services.processing import ProcessingService
from mam.services.users import UserService, hash_password

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
        add_township_user(s, "township", county_code="c1")
        # Online learning: a learner of c1 (learners made by county staff sign in with their
        # phone number; any username works for the route tables).
        users.create("learner", PASSWORD, [Role.LEARNER], county_code="c1")
    return app


def add_township_user(session: Session, username: str, *, county_code: str) -> User:
    """Create a township station 乡镇站 in the county and its ``township`` account (commits)."""
    county = session.scalar(select(County).where(County.code == county_code))
    assert county is not None
    township = Township(county_id=county.id, name="城关镇电教站")
    session.add(township)
    session.flush()
    user = User(
        username=username,
        display_name=f"{username}-显示名",
        password_hash=hash_password(PASSWORD),
        county_id=county.id,
        township_id=township.id,
        role_rows=[UserRole(role=Role.TOWNSHIP)],
    )
    session.add(user)
    session.commit()
    return user


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
