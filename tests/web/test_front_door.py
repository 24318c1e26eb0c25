"""The site's address is every account's front door: nobody signed in meets a refusal there."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

# Where each kind of account lands when it opens "/" (written out, not read from the app).
HOMES = {
    "producer": None,  # staff see the catalogue itself
    "admin": None,
    "county": "/county/",
    "township": "/network/",
    "learner": "/learn/",
}


@pytest.mark.parametrize("username", sorted(HOMES))
def test_the_front_door_leads_every_account_home(
    username: str, login: Callable[[str], FlaskClient]
) -> None:
    response = login(username).get("/")
    home = HOMES[username]
    if home is None:
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert response.headers["Location"] == home


def test_a_visitor_is_asked_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
