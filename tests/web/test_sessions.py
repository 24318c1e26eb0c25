"""Sessions that end (sign-out, new password, sign out everywhere, deactivation) and passwords
(change on /account, an administrator's reset, ``mam users passwd``)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mam.cli import cli
from mam.config import Settings
from mam.models import AuditEvent, User
from mam.runtime import Runtime
from tests.web.conftest import PASSWORD, csrf_from

NEW_PASSWORD = "梧桐树下 seven lanterns"


def sign_in(app: Flask, username: str, password: str = PASSWORD) -> tuple[FlaskClient, str]:
    """Return a client of its own signed in as ``username``, and where the login sent it."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    token = csrf_from(client.get("/login").get_data(as_text=True))
    r = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    return client, r.headers["Location"]


def signed_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def token(client: FlaskClient, url: str = "/account") -> str:
    return csrf_from(client.get(url).get_data(as_text=True))


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Return a new client holding a copy of ``client``'s session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def actions(runtime: Runtime, name: str) -> list[AuditEvent]:
    with runtime.db.session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == name)))


def test_a_cookie_copied_before_logout_opens_nothing_after(app: Flask, runtime: Runtime) -> None:
    client, _ = sign_in(app, "producer")
    thief = copy_of(app, client)
    assert signed_in(thief)  # the copy works while the session is open
    assert client.post("/logout", data={"csrf_token": token(client)}).status_code == 302
    r = thief.get("/account")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    r = thief.get("/api/v1/jobs")
    assert r.status_code == 401
    assert len(actions(runtime, "logout")) == 1


def test_logging_out_ends_only_this_session(app: Flask) -> None:
    office, _ = sign_in(app, "county")
    home, _ = sign_in(app, "county")
    office.post("/logout", data={"csrf_token": token(office)})
    assert not signed_in(office) and signed_in(home)


def test_changing_the_password_ends_every_other_session(app: Flask, runtime: Runtime) -> None:
    here, _ = sign_in(app, "producer")
    elsewhere, _ = sign_in(app, "producer")
    stolen = copy_of(app, elsewhere)
    page = "/account/password"

    def change(current: str, new: str, repeat: str | None = None) -> tuple[int, str]:
        r = here.post(
            page,
            data={
                "csrf_token": token(here, page),
                "current": current,
                "new": new,
                "repeat": new if repeat is None else repeat,
            },
        )
        return r.status_code, r.get_data(as_text=True)

    status, html = change("not my password", NEW_PASSWORD)
    assert status == 403 and "The current password is wrong." in html
    status, html = change(PASSWORD, "producer2024")
    assert status == 400 and "too easy to guess" in html
    status, html = change(PASSWORD, "short")
    assert status == 400 and "at least 10 characters" in html
    status, html = change(PASSWORD, NEW_PASSWORD, "something else entirely")
    assert status == 400 and "The two new passwords differ." in html
    assert signed_in(elsewhere)  # nothing changed yet

    status, _ = change(PASSWORD, NEW_PASSWORD)
    assert status == 302
    assert signed_in(here) and not signed_in(elsewhere) and not signed_in(stolen)
    assert len(actions(runtime, "password_changed")) == 1
    sign_in(app, "producer", NEW_PASSWORD)
    refused = app.test_client()
    form = {"username": "producer", "password": PASSWORD}
    form["csrf_token"] = csrf_from(refused.get("/login").get_data(as_text=True))
    assert refused.post("/login", data=form).status_code == 401


def test_sign_out_everywhere_from_the_account_page(app: Flask, runtime: Runtime) -> None:
    here, _ = sign_in(app, "reviewer")
    elsewhere, _ = sign_in(app, "reviewer")
    html = here.get("/account").get_data(as_text=True)
    assert html.count('data-testid="session"') == 2
    r = here.post("/account/sessions/end", data={"csrf_token": token(here)})
    assert r.status_code == 302
    assert not signed_in(here) and not signed_in(elsewhere)
    (event,) = actions(runtime, "sessions_ended")
    assert event.details["ended"] == 2


def user_id(runtime: Runtime, username: str) -> int:
    with runtime.db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        assert user is not None
        return user.id


def test_an_admin_reset_gives_a_temporary_password_to_replace_at_sign_in(
    app: Flask, runtime: Runtime
) -> None:
    victim, _ = sign_in(app, "producer")
    admin, _ = sign_in(app, "admin")
    uid = user_id(runtime, "producer")
    r = admin.post(f"/admin/users/{uid}/password", data={"csrf_token": token(admin)})
    assert r.status_code == 302
    html = admin.get("/admin/users").get_data(as_text=True)
    found = re.search(r"Temporary password for producer: (\w{16})", html)
    assert found, "the temporary password is shown to the admin once"
    assert found.group(1) not in admin.get("/admin/users").get_data(as_text=True)
    assert not signed_in(victim)

    client, landing = sign_in(app, "producer", found.group(1))
    assert landing.endswith("/account/password")
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/account/password")
    r = client.get("/api/v1/jobs")
    assert r.status_code == 403 and "Choose a new password" in r.json["error"]  # type: ignore[index]
    page = "/account/password"
    form = {"current": found.group(1), "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    r = client.post(page, data={**form, "csrf_token": token(client, page)})
    assert r.status_code == 302
    assert client.get("/").status_code == 200
    (reset,) = actions(runtime, "password_reset")
    assert reset.actor_id == user_id(runtime, "admin") and reset.details["temporary"] is True


def test_an_admin_signs_someone_out_everywhere_and_deactivation_ends_sessions(
    app: Flask, runtime: Runtime
) -> None:
    phone, _ = sign_in(app, "county")
    desk, _ = sign_in(app, "publisher")
    admin, _ = sign_in(app, "admin")
    r = admin.post(
        f"/admin/users/{user_id(runtime, 'county')}/sessions/end",
        data={"csrf_token": token(admin)},
    )
    assert r.status_code == 302 and not signed_in(phone)
    uid = user_id(runtime, "publisher")
    r = admin.post(f"/admin/users/{uid}", data={"csrf_token": token(admin), "roles": ["publisher"]})
    assert r.status_code == 302 and not signed_in(desk)
    reasons = {e.reason for e in actions(runtime, "sessions_ended")}
    assert reasons == {"signed_out_by_admin", "deactivated"}


@pytest.fixture
def run(settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for key, value in settings.to_env().items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


def test_mam_users_passwd(app: Flask, runtime: Runtime, run) -> None:  # type: ignore[no-untyped-def]
    before, _ = sign_in(app, "reviewer")
    result = run("users", "passwd", "reviewer", input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert not signed_in(before)
    _, landing = sign_in(app, "reviewer", NEW_PASSWORD)
    assert not landing.endswith("/account/password")

    weak = run("users", "passwd", "reviewer", input="reviewer123\nreviewer123\n")
    assert weak.exit_code == 2 and "too easy to guess" in weak.output

    generated = run("users", "passwd", "reviewer", "--generate")
    assert generated.exit_code == 0
    temporary = re.search(r"temporary password for reviewer: (\w{16})", generated.output)
    assert temporary
    _, landing = sign_in(app, "reviewer", temporary.group(1))
    assert landing.endswith("/account/password")
    assert run("users", "passwd", "nobody", "--generate").exit_code != 0
