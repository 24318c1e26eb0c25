from __future__ import annotations

import re
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from mam.models import Rendition, Version
from mam.runtime import Runtime, build_runtime
from tests.conftest import make_settings
from tests.web.conftest import process_now
from web import create_app


def test_catalogue_shows_programme_episode_poster_and_state(
    login: Callable[[str], FlaskClient], ready_version: int
) -> None:
    html = login("producer").get("/").get_data(as_text=True)
    assert "《时代风采》" in html and "示范片" in html
    assert f'src="/media/versions/{ready_version}/poster"' in html
    assert 'data-state="ready"' in html and "待送审" in html


def test_busy_versions_show_progress(
    login: Callable[[str], FlaskClient], runtime: Runtime, fresh_clip: Path
) -> None:
    from mam.services.ingest import IngestService

    with runtime.db.session() as s:
        vid = (
            IngestService(s, runtime.storage)
            .ingest_file(fresh_clip, programme="P", title="排队中的片子")
            .version.id
        )
    client = login("producer")
    html = client.get("/").get_data(as_text=True)
    assert f'data-progress-url="/api/v1/versions/{vid}/progress"' in html
    assert f'data-progress-for="{vid}"' in html
    data = client.get(f"/api/v1/versions/{vid}/progress").get_json()
    assert data["state"] == "uploaded" and data["job"]["state"] == "queued"
    assert data["job"]["progress"] == 0
    assert data["jobs"] == [data["job"]]  # the jobs table reads the same poll as the bar


def test_episode_page_plays_the_proxy(
    login: Callable[[str], FlaskClient], runtime: Runtime, ready_version: int
) -> None:
    client = login("reviewer")
    with runtime.db.session() as s:
        v = s.get_one(Version, ready_version)
        episode_id, proxy_id = v.episode_id, v.rendition("proxy").id  # type: ignore[union-attr]
    html = client.get(f"/episodes/{episode_id}").get_data(as_text=True)
    assert re.search(r'<video id="player"[^>]*poster="/media/versions/\d+/poster"', html)
    assert f'src="/media/renditions/{proxy_id}"' in html
    assert "h264" in html and "SHA-256" in html


def test_media_supports_ranges(
    login: Callable[[str], FlaskClient], runtime: Runtime, ready_version: int
) -> None:
    client = login("producer")
    with runtime.db.session() as s:
        proxy = s.get_one(Version, ready_version).rendition("proxy")
        assert proxy is not None
        url, size = f"/media/renditions/{proxy.id}", proxy.size
        full = runtime.storage.local_path(proxy.storage_key).read_bytes()  # type: ignore[union-attr]

    def get(headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
        with client.get(url, headers=headers or {}) as response:  # closes the file
            return response.status_code, response.get_data(), dict(response.headers)

    status, body, headers = get()
    assert status == 200 and headers["Accept-Ranges"] == "bytes"
    assert body == full and headers["Content-Type"] == "video/mp4"
    status, body, headers = get({"Range": "bytes=100-199"})
    assert status == 206 and body == full[100:200]
    assert headers["Content-Range"] == f"bytes 100-199/{size}"
    etag = get()[2]["ETag"]
    status, body, _ = get({"Range": "bytes=10-", "If-Range": etag})
    assert status == 206 and body == full[10:]
    status, body, _ = get({"Range": "bytes=10-", "If-Range": '"stale"'})
    assert status == 200 and body == full
    assert get({"Range": f"bytes={size + 10}-"})[0] == 416
    assert client.get("/media/renditions/999999").status_code == 404


def test_html_in_titles_is_escaped(
    login: Callable[[str], FlaskClient], runtime: Runtime, fresh_clip: Path
) -> None:
    process_now(runtime, fresh_clip, title='<script>alert("x")</script>')
    html = login("producer").get("/").get_data(as_text=True)
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_api_version_json(login: Callable[[str], FlaskClient], ready_version: int) -> None:
    client = login("publisher")
    data = client.get(f"/api/v1/versions/{ready_version}").get_json()
    assert data["state"] == "ready"
    assert {r["profile"] for r in data["renditions"]} == {
        "broadcast", "playback", "web", "mobile", "proxy", "poster"}  # fmt: skip
    assert data["jobs"][0]["progress"] == 100.0
    missing = client.get("/api/v1/versions/999999")
    assert missing.status_code == 404 and missing.get_json()["error"] == "版本 999999 不存在。"
    assert missing.get_json()["code"] == "catalogue.version_missing"


@pytest.mark.slow
def test_media_on_s3_redirects_to_a_working_presigned_url(
    home: Path, moto_endpoint: str, fresh_clip: Path
) -> None:
    settings = make_settings(
        home,
        storage_backend="s3",
        s3_bucket=f"b-{uuid.uuid4().hex[:8]}",
        s3_endpoint_url=moto_endpoint,
        s3_create_bucket=True,
    )
    from mam import migrate
    from mam.models import Role
    from mam.services.users import UserService
    from tests.web.conftest import PASSWORD, csrf_from

    migrate.upgrade(settings.database_url)
    rt = build_runtime(settings)
    vid = process_now(rt, fresh_clip)
    with rt.db.session() as s:
        UserService(s).create("producer", PASSWORD, [Role.PRODUCER])
        proxy = s.get_one(Version, vid).rendition("proxy")
        assert isinstance(proxy, Rendition)
        proxy_id, size = proxy.id, proxy.size
    client = create_app({"TESTING": True}, runtime=rt).test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "producer", "password": PASSWORD, "csrf_token": token})
    response = client.get(f"/media/renditions/{proxy_id}")
    assert response.status_code == 302
    assert response.location.startswith(moto_endpoint) and "Signature" in response.location
    with urllib.request.urlopen(response.location) as fetched:  # noqa: S310 - loopback moto
        assert len(fetched.read()) == size
    rt.close()
