from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mam.models import AuditEvent
from mam.runtime import Runtime
from tests.web.conftest import PASSWORD, csrf_from

# Views that anyone may call; everything else must declare roles.
# ops.metrics is public to the policy but checks an admin session or the metrics token itself.
PUBLIC_ENDPOINTS = {
    "auth.login", "i18n.set_language", "static", "ops.healthz", "ops.readyz", "ops.metrics",
}


def test_every_route_declares_who_may_use_it(app: Flask) -> None:
    """Deny by default: a view without a role declaration is a defect."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        allowed = getattr(view, "_mam_allow", None)
        if rule.endpoint == "static":
            continue
        assert allowed, f"{rule.endpoint} declares no roles"
        if "public" in allowed:
            assert rule.endpoint in PUBLIC_ENDPOINTS, f"{rule.endpoint} is public"


def test_undeclared_view_is_refused(app: Flask, client: FlaskClient) -> None:
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    assert client.get("/forgotten").status_code == 403


def test_anonymous_users_are_sent_to_login(app: Flask, client: FlaskClient) -> None:
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or "GET" not in rule.methods:
            continue
        url = rule.build(dict.fromkeys(rule.arguments, 1))[1]  # type: ignore[index]
        response = client.get(url)
        if url.startswith("/api/"):
            assert response.status_code == 401, url
        else:
            assert response.status_code == 302 and "/login" in response.location, url


def test_login_page_speaks_chinese_first(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert "登录" in html and 'lang="zh-CN"' in html


def test_wrong_password_is_refused_and_logged(client: FlaskClient, runtime: Runtime) -> None:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": "producer", "password": "wrong password", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    with runtime.db.session() as s:
        assert s.scalar(select(AuditEvent.action).where(AuditEvent.action == "login_failed"))


def test_form_without_csrf_token_is_refused(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "producer", "password": PASSWORD})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still not logged in


def test_login_redirect_stays_on_site(client: FlaskClient) -> None:
    for target, expected in [
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/episodes/1", "/episodes/1"),
    ]:
        token = csrf_from(client.get("/login").get_data(as_text=True))
        response = client.post(
            f"/login?next={target}",
            data={"username": "producer", "password": PASSWORD, "csrf_token": token},
        )
        assert response.location == expected
        client.post(
            "/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))}
        )


def test_logout_needs_post_with_token(login: Callable[[str], FlaskClient]) -> None:
    client = login("producer")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token: a forged logout
    assert client.get("/").status_code == 200
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    ("user", "status"),
    [("producer", 200), ("reviewer", 200), ("publisher", 200), ("admin", 200), ("county", 302)],
)
def test_catalogue_roles(login: Callable[[str], FlaskClient], user: str, status: int) -> None:
    response = login(user).get("/")
    assert response.status_code == status
    if status == 302:  # a county account is sent to its own page, never shown the catalogue
        assert response.headers["Location"] == "/county/"


def test_county_lands_on_its_portal(client: FlaskClient) -> None:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": "county", "password": PASSWORD, "csrf_token": token}
    )
    assert response.location == "/county/"
    assert "甲县" in client.get("/account").get_data(as_text=True)


def test_language_switch(login: Callable[[str], FlaskClient]) -> None:
    client = login("producer")
    assert "影片目录" in client.get("/").get_data(as_text=True)
    token = csrf_from(client.get("/").get_data(as_text=True))
    client.post("/language/en", data={"csrf_token": token, "next": "/"})
    html = client.get("/").get_data(as_text=True)
    assert "Catalogue" in html and 'lang="en"' in html
    assert client.post("/language/xx", data={"csrf_token": token}).status_code == 404
