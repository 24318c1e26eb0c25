"""Admin pages: users with roles and review stages, programmes, counties, the audit log."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from mam.models import AuditEvent, County, Programme, Role, User
from mam.models.review import ReviewStage
from mam.runtime import Runtime
from mam.services.review import ReviewService
from tests.web.conftest import csrf_from


@pytest.fixture
def admin(login: Callable[[str], FlaskClient]) -> FlaskClient:
    client = login("admin")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def post(client: FlaskClient, url: str, data: dict[str, object]) -> int:
    token = csrf_from(client.get("/admin/users").get_data(as_text=True))
    response = client.post(url, data={**data, "csrf_token": token})
    response.close()
    return response.status_code


def user(runtime: Runtime, username: str) -> User:
    with runtime.db.session() as s:
        u = s.scalar(select(User).where(User.username == username))
        assert u is not None
        u.roles  # noqa: B018 - load before the session closes
        return u


def test_create_user_grant_roles_and_stages(admin: FlaskClient, runtime: Runtime) -> None:
    assert (
        post(
            admin,
            "/admin/users",
            {
                "username": "zhang",
                "display_name": "张审片",
                "password": "long enough pw",
                "roles": ["reviewer"],
            },
        )
        == 302
    )
    zhang = user(runtime, "zhang")
    assert zhang.roles == {Role.REVIEWER}
    with runtime.db.session() as s:
        final = (
            s.scalar(select(ReviewStage).where(ReviewStage.name == "终审"))
            or ReviewService(s).stages()[1]
        )
        final_id = final.id
    assert (
        post(
            admin,
            f"/admin/users/{zhang.id}",
            {
                "roles": ["reviewer", "producer"],
                "stages": [str(final_id)],
                "active": "1",
                "email": "zhang@example.org",
            },
        )
        == 302
    )
    with runtime.db.session() as s:
        z = s.get_one(User, zhang.id)
        assert z.roles == {Role.REVIEWER, Role.PRODUCER} and z.email == "zhang@example.org"
        assert [st.name for st in ReviewService(s).grants(z)] == ["终审"]
        actions = set(s.scalars(select(AuditEvent.action).where(AuditEvent.object_id == z.id)))
        assert {"user_created", "roles_changed", "stages_changed", "user_changed"} <= actions
    html = admin.get("/admin/users").get_data(as_text=True)
    assert "张审片" in html


def test_a_deactivated_user_cannot_sign_in(admin: FlaskClient, runtime: Runtime) -> None:
    reviewer = user(runtime, "reviewer")
    assert post(admin, f"/admin/users/{reviewer.id}", {"roles": ["reviewer"]}) == 302
    with runtime.db.session() as s:
        assert s.get_one(User, reviewer.id).active is False


def test_programmes_with_a_responsible_producer(admin: FlaskClient, runtime: Runtime) -> None:
    producer = user(runtime, "producer")
    assert (
        post(admin, "/admin/programmes", {"name": "<b>时代风采</b>", "producer": str(producer.id)})
        == 302
    )
    with runtime.db.session() as s:
        prog = s.scalar(select(Programme))
        assert prog is not None and prog.producer_id == producer.id
    html = admin.get("/admin/programmes").get_data(as_text=True)
    assert "&lt;b&gt;时代风采&lt;/b&gt;" in html and "<b>时代风采" not in html
    reviewer = user(runtime, "reviewer")
    assert post(admin, "/admin/programmes", {"name": "X", "producer": str(reviewer.id)}) == 302
    assert "is not a producer" in admin.get("/admin/programmes").get_data(as_text=True)


def test_counties(admin: FlaskClient, runtime: Runtime) -> None:
    assert post(admin, "/admin/counties", {"code": "c9", "name": "丙县"}) == 302
    with runtime.db.session() as s:
        assert s.scalar(select(County.name).where(County.code == "c9")) == "丙县"
    assert "丙县" in admin.get("/admin/counties").get_data(as_text=True)


def test_audit_log_filters_and_csv(admin: FlaskClient, runtime: Runtime) -> None:
    producer = user(runtime, "producer")
    post(admin, "/admin/programmes", {"name": "P1", "producer": str(producer.id)})
    html = admin.get("/admin/audit?action=programme_saved").get_data(as_text=True)
    assert 'data-action="programme_saved"' in html and 'data-action="login"' not in html
    response = admin.get("/admin/audit.csv?actor=admin")
    text = response.get_data(as_text=True)
    response.close()
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows and {r["Username"] for r in rows} == {"admin"}
    assert "Programme saved" in {r["What"] for r in rows}


def test_the_review_chain_is_configured_here(admin: FlaskClient, runtime: Runtime) -> None:
    assert post(admin, "/admin/stages", {"stages": "初审\n复审\n终审\n"}) == 302
    with runtime.db.session() as s:
        assert [st.name for st in ReviewService(s).stages()] == ["初审", "复审", "终审"]


@pytest.mark.parametrize("who", ["producer", "reviewer", "publisher"])
def test_only_admins_reach_admin_pages(login: Callable[[str], FlaskClient], who: str) -> None:
    client = login(who)
    for url in (
        "/admin/users",
        "/admin/programmes",
        "/admin/counties",
        "/admin/audit",
        "/admin/audit.csv",
    ):
        response = client.get(url)
        response.close()
        assert response.status_code == 403, url
    assert 'data-testid="nav-admin"' not in client.get("/").get_data(as_text=True)
