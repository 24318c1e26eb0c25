"""Programmes nobody is responsible for: the admin sees them and assigns a producer."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from mam.models import User, VersionState
from mam.runtime import Runtime
from tests import factories
from tests.web.conftest import csrf_from


def test_admin_assigns_a_producer_to_an_orphan_programme(
    client: FlaskClient, runtime: Runtime, login: Callable[[str], FlaskClient]
) -> None:
    with runtime.db.session() as s:
        v = factories.version(s, VersionState.READY, programme="党建引领")
        v.asset.media_info = {"container": "mp4", "duration": 2.0, "video": [], "audio": []}
        s.commit()
        version_id, programme_id = v.id, v.episode.programme_id
        producer = s.scalar(select(User).where(User.username == "producer"))
        assert producer is not None
        producer_id = producer.id
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login("producer")
    html = client.get(f"/review/versions/{version_id}").get_data(as_text=True)
    assert 'data-testid="submit-blocked"' in html and "administrator must assign" in html
    client.post(
        "/logout", data={"csrf_token": csrf_from(client.get("/account").get_data(as_text=True))}
    )

    login("admin")
    html = client.get("/admin/programmes").get_data(as_text=True)
    assert html.count('data-testid="no-producer"') == 1
    r = client.post(
        f"/admin/programmes/{programme_id}",
        data={"csrf_token": csrf_from(html), "name": "党建引领", "producer": str(producer_id)},
    )
    assert r.status_code == 302
    assert 'data-testid="no-producer"' not in client.get("/admin/programmes").get_data(as_text=True)
    client.post(
        "/logout", data={"csrf_token": csrf_from(client.get("/account").get_data(as_text=True))}
    )

    login("producer")
    html = client.get(f"/review/versions/{version_id}").get_data(as_text=True)
    assert 'data-testid="submit-review"' in html and 'data-testid="submit-blocked"' not in html
    assert 'data-testid="to-submit"' in client.get("/inbox").get_data(as_text=True)
