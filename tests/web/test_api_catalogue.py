"""/api/v1 with per-user tokens: episodes, search, metadata, uploads, OpenAPI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from mam.runtime import Runtime
from tests.web.conftest import csrf_from
from tests.web.test_metadata import make_episode
from tests.web.test_upload import TUS, RecordingQueue, token_for


def test_token_lists_searches_and_reads_episodes(
    client: FlaskClient, runtime: Runtime, app: Flask
) -> None:
    first = make_episode(runtime, "党建引领乡村振兴", versions=2)
    make_episode(runtime, "果树栽培")
    auth = {"Authorization": token_for(runtime, "reviewer")["Authorization"]}
    r = client.get("/api/v1/episodes", headers=auth)
    assert r.status_code == 200 and r.json["total"] == 2
    r = client.get("/api/v1/episodes?q=党建", headers=auth)
    assert [e["title"] for e in r.json["episodes"]] == ["党建引领乡村振兴"]
    assert r.json["facets"]["state"][0]["count"] == 1
    r = client.get(f"/api/v1/episodes/{first}", headers=auth)
    assert r.status_code == 200
    body = r.json
    assert body["title"] == "党建引领乡村振兴" and len(body["versions"]) == 2
    assert {"renditions", "jobs", "original"} <= set(body["versions"][0])
    assert body["metadata"]["topics"] == []

    assert client.get("/api/v1/episodes?page=x", headers=auth).status_code == 400
    r = client.get("/api/v1/episodes?state=nonsense", headers={**auth, "Accept-Language": "en"})
    assert r.status_code == 400 and "state must be one of" in r.json["error"]
    assert client.get("/api/v1/episodes/999999", headers=auth).status_code == 404
    r = client.get(
        "/api/v1/episodes",
        headers={"Authorization": "Bearer mam_wrong", "Accept-Language": "en"},
    )
    assert r.status_code == 401 and "token is wrong or was revoked" in r.json["error"]
    assert client.get("/api/v1/episodes").status_code == 401
    # a reviewer may read but not edit
    r = client.patch(f"/api/v1/episodes/{first}", json={"synopsis": "x"}, headers=auth)
    assert r.status_code == 403


def test_token_updates_metadata_with_clear_errors(client: FlaskClient, runtime: Runtime) -> None:
    episode_id = make_episode(runtime, "田间课堂")
    auth = {"Authorization": token_for(runtime, "producer")["Authorization"]}
    r = client.patch(
        f"/api/v1/episodes/{episode_id}",
        json={"synopsis": "讲农业技术", "topics": ["农业技术"], "production_date": "2024-02-03"},
        headers=auth,
    )
    assert r.status_code == 200, r.json
    assert r.json["metadata"]["topics"] == ["科技富民/农业技术"]
    assert r.json["metadata"]["production_date"] == "2024-02-03"
    found = client.get("/api/v1/episodes?q=农业", headers=auth).json
    assert [e["id"] for e in found["episodes"]] == [episode_id]

    r = client.patch(
        f"/api/v1/episodes/{episode_id}",
        json={"production_date": "2024-02-30", "source": "外星"},
        headers=auth,
    )
    assert r.status_code == 400
    assert set(r.json["fields"]) == {"production_date", "source"}
    r = client.patch(f"/api/v1/episodes/{episode_id}", json={"colour": "red"}, headers=auth)
    assert r.status_code == 400 and "未知字段：colour" in r.json["error"]
    r = client.patch(f"/api/v1/episodes/{episode_id}", data="nope", headers=auth)
    assert r.status_code == 400 and "JSON 对象" in r.json["error"]


def test_cookie_session_api_writes_need_csrf_header(
    client: FlaskClient, runtime: Runtime, login: Callable[[str], FlaskClient]
) -> None:
    episode_id = make_episode(runtime)
    login("producer")
    r = client.patch(f"/api/v1/episodes/{episode_id}", json={"synopsis": "x"})
    assert r.status_code == 400  # CSRF refused
    token = csrf_from(client.get("/account/tokens").get_data(as_text=True))
    r = client.patch(
        f"/api/v1/episodes/{episode_id}", json={"synopsis": "x"}, headers={"X-CSRFToken": token}
    )
    assert r.status_code == 200 and r.json["synopsis"] == "x"


def test_start_upload_then_send_bytes_with_tus(
    client: FlaskClient, runtime: Runtime, app: Flask, fresh_clip: Path
) -> None:
    app.extensions["mam_queue"] = RecordingQueue()
    auth = {"Authorization": token_for(runtime, "producer")["Authorization"]}
    data = fresh_clip.read_bytes()
    r = client.post(
        "/api/v1/uploads",
        json={"filename": "a.mp4", "length": len(data), "programme": "时代风采", "title": "接口"},
        headers=auth,
    )
    assert r.status_code == 201, r.json
    path = r.json["upload_url"].split("://", 1)[1].split("/", 1)[1]
    r = client.patch(
        "/" + path,
        data=data,
        headers={
            **auth,
            **TUS,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert r.status_code == 204 and r.headers["Upload-Version-Id"]
    r = client.post("/api/v1/uploads", json={"filename": "a.mp4"}, headers=auth)
    assert r.status_code == 400 and "length" in r.json["error"]
    r = client.post(
        "/api/v1/uploads",
        json={"filename": "a.docx", "length": 5, "programme": "p", "title": "t"},
        headers=auth,
    )
    assert r.status_code == 422 and "a.docx 不是视频或音频文件" in r.json["error"]
    assert r.json["code"] == "upload.not_media" and r.json["params"]["file"] == "a.docx"


def test_openapi_document_validates_and_docs_page_lists_operations(
    client: FlaskClient, runtime: Runtime, login: Callable[[str], FlaskClient]
) -> None:
    auth = {"Authorization": token_for(runtime, "producer")["Authorization"]}
    spec = client.get("/api/v1/openapi.json", headers=auth).json
    validate(spec)
    assert {"/api/v1/episodes", "/api/v1/episodes/{episode_id}", "/api/v1/uploads"} <= set(
        spec["paths"]
    )
    login("reviewer")
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert page.count('data-testid="api-operation"') >= 7 and "PATCH /api/v1/episodes" in page
    page = client.get("/account/tokens").get_data(as_text=True)
    r = client.post(
        "/account/tokens",
        data={"csrf_token": csrf_from(page), "name": "脚本", "scopes": "api"},
    )
    html = r.get_data(as_text=True)
    secret = html.split('data-testid="new-token"')[1].split("<code")[1].split(">")[1].split("<")[0]
    assert secret.startswith("mam_")
    client.post("/logout", data={"csrf_token": csrf_from(html)})
    assert client.get("/api/v1/topics", headers={"Authorization": f"Bearer {secret}"}).json[
        "topics"
    ]
