"""Sign-in attempts are limited: after five failures the account is paused for 15 minutes."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.web.conftest import PASSWORD, csrf_from


def attempt(client: FlaskClient, username: str, password: str) -> tuple[int, str]:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    html = response.get_data(as_text=True)
    response.close()
    return response.status_code, html


def test_repeated_failures_pause_sign_in(client: FlaskClient) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for _ in range(5):
        assert attempt(client, "reviewer", "wrong password!")[0] == 401
    status, html = attempt(client, "reviewer", PASSWORD)  # even the right password waits
    assert status == 429 and "Too many failed sign-in attempts" in html
    assert attempt(client, "producer", PASSWORD)[0] == 302  # other accounts are not locked out
