"""Every route × every role: refused unless declared (deny by default), whatever the method."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mam.models import Role
from tests.web.conftest import PASSWORD, csrf_from

ROLES = ["anonymous", "producer", "reviewer", "publisher", "county", "admin"]
STAFF = {"producer", "reviewer", "publisher", "admin"}
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
}
ADMIN_PREFIX = "admin."
ARG = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>")
SKIP = {"static", "auth.logout"}  # logout is covered in test_auth; it would end the session


def _client(app: Flask, role: str) -> FlaskClient:
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
