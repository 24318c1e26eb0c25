from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from mam.models import User, Version
from mam.models.catalogue import UploadSession, UploadState
from mam.runtime import Runtime
from mam.services.ingest import IngestService
from mam.services.tokens import TokenService
from tests.conftest import unique_copy
from tests.web.conftest import csrf_from

TUS = {"Tus-Resumable": "1.0.0"}


class RecordingQueue:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def enqueue_processing(self, version_id: int, job_id: int) -> str:
        self.calls.append((version_id, job_id))
        return f"task-{job_id}"


@pytest.fixture
def queue(app: Flask) -> RecordingQueue:
    q = RecordingQueue()
    app.extensions["mam_queue"] = q
    return q


def token_for(runtime: Runtime, username: str) -> dict[str, str]:
    with runtime.db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        assert user is not None
        secret, _ = TokenService(s).issue(user, "test")
    return {"Authorization": f"Bearer {secret}", **TUS}


def forget_hash_state(runtime: Runtime, upload_id: str) -> None:
    """Drop the saved SHA-256 state of an upload (a row from before it was kept)."""
    with runtime.db.session() as s:
        upload = s.get(UploadSession, upload_id)
        assert upload is not None
        if upload.offset:
            assert upload.sha256_state is not None  # kept with every committed offset
        upload.sha256_state = None
        s.commit()


def b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def meta_header(**fields: str) -> str:
    return ",".join(f"{k} {b64(v)}" for k, v in fields.items())


def create(client: FlaskClient, headers: dict[str, str], length: int, **meta: str) -> str:
    fields = {"filename": "片子.mp4", "programme": "时代风采", "title": "上传的片子", **meta}
    r = client.post(
        "/upload/files",
        headers={**headers, "Upload-Length": str(length), "Upload-Metadata": meta_header(**fields)},
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.headers["Upload-Offset"] == "0"
    return r.headers["Location"].split("/upload/files/")[1]


def patch(
    client: FlaskClient, headers: dict[str, str], upload_id: str, offset: int, body: bytes
) -> object:
    return client.patch(
        f"/upload/files/{upload_id}",
        data=body,
        headers={
            **headers,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
        },
    )


@pytest.fixture
def producer_headers(app: Flask, runtime: Runtime) -> dict[str, str]:
    return token_for(runtime, "producer")


def test_options_describes_the_server(
    client: FlaskClient, producer_headers: dict[str, str]
) -> None:
    r = client.options("/upload/files", headers=producer_headers)
    assert r.status_code == 204
    assert r.headers["Tus-Version"] == "1.0.0"
    assert "creation" in r.headers["Tus-Extension"]
    assert r.headers["Tus-Max-Size"] == str(50 * 1000**3)


def test_upload_in_pieces_creates_a_version_with_the_right_sha(
    client: FlaskClient,
    runtime: Runtime,
    producer_headers: dict[str, str],
    queue: RecordingQueue,
    fresh_clip: Path,
) -> None:
    data = fresh_clip.read_bytes()
    upload_id = create(
        client, producer_headers, len(data), topics="党的建设,农业技术", keywords="党建、乡村"
    )
    cut = len(data) // 3
    r = patch(client, producer_headers, upload_id, 0, data[:cut])
    assert r.status_code == 204 and r.headers["Upload-Offset"] == str(cut)
    head = client.head(f"/upload/files/{upload_id}", headers=producer_headers)
    assert head.status_code == 200 and head.headers["Upload-Offset"] == str(cut)
    assert head.headers["Upload-Length"] == str(len(data))
    forget_hash_state(runtime, upload_id)  # no usable saved state: re-hashed from disk
    r = patch(client, producer_headers, upload_id, cut, data[cut:])
    assert r.status_code == 204, r.get_data(as_text=True)
    version_id = int(r.headers["Upload-Version-Id"])
    with runtime.db.session() as s:
        version = s.get(Version, version_id)
        assert version is not None
        assert version.sha256 == hashlib.sha256(data).hexdigest()
        assert version.episode.title == "上传的片子"
        assert version.asset.original_filename == "片子.mp4"
        assert version.uploaded_by is not None and version.uploaded_by.username == "producer"
        with runtime.storage.open(version.asset.storage_key) as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == version.sha256
        upload = s.get(UploadSession, upload_id)
        assert upload is not None and upload.state is UploadState.DONE
        from mam.services.metadata import metadata_dict

        meta = metadata_dict(s, version.episode)
        assert meta["topics"] == ["党的建设", "科技富民/农业技术"]
        assert meta["keywords"] == ["党建", "乡村"]
    assert queue.calls == [(version_id, queue.calls[0][1])]
    assert not list((runtime.settings.work_dir / "uploads").iterdir())  # type: ignore[operator]
    status = client.get(f"/upload/files/{upload_id}/status", headers=producer_headers)
    # the status page is for the browser (cookie); a token works on /upload/files too
    assert status.status_code == 200 and status.json["episode_url"].startswith("/episodes/")


def test_bad_headers_get_clear_errors(
    client: FlaskClient, runtime: Runtime, producer_headers: dict[str, str]
) -> None:
    h = producer_headers
    no_version = {k: v for k, v in h.items() if k != "Tus-Resumable"}
    r = client.post("/upload/files", headers={**no_version, "Upload-Length": "10"})
    assert r.status_code == 412 and r.headers["Tus-Version"] == "1.0.0"
    r = client.post("/upload/files", headers={**h, "Upload-Length": "ten"})
    assert r.status_code == 400 and "Upload-Length" in r.get_data(as_text=True)
    r = client.post("/upload/files", headers={**h, "Upload-Length": str(51 * 1000**3)})
    assert r.status_code == 413 and "超过了允许的最大值" in r.get_data(as_text=True)
    r = client.post(
        "/upload/files",
        headers={**h, "Upload-Length": "10", "Upload-Metadata": "filename !!!notbase64"},
    )
    assert r.status_code == 400 and "base64" in r.get_data(as_text=True)
    r = client.post(
        "/upload/files",
        headers={
            **h,
            "Upload-Length": "10",
            "Upload-Metadata": meta_header(filename="报告.pdf", programme="p", title="t"),
        },
    )
    assert r.status_code == 422 and "报告.pdf 不是视频或音频文件" in r.get_data(as_text=True)
    r = client.post(
        "/upload/files",
        headers={**h, "Upload-Length": "10", "Upload-Metadata": meta_header(filename="a.mp4")},
    )
    assert r.status_code == 400 and "栏目不能为空" in r.get_data(as_text=True)
    r = client.post(
        "/upload/files",
        headers={
            **h,
            "Upload-Length": "10",
            "Upload-Metadata": meta_header(
                filename="a.mp4", programme="p", title="t", production_date="2024-13-45"
            ),
        },
    )
    assert r.status_code == 400 and "制作日期" in r.get_data(as_text=True)

    upload_id = create(client, h, 10)
    assert patch(client, h, upload_id, 0, b"12345").status_code == 204
    r = patch(client, h, upload_id, 0, b"12345")
    assert r.status_code == 409
    assert "续传从第 0 字节开始，但服务器已收到 5 字节" in r.get_data(as_text=True)
    r = patch(client, h, upload_id, 5, b"123456")
    assert r.status_code == 400 and "超过了上传时声明的文件大小" in r.get_data(as_text=True)
    r = client.patch(
        f"/upload/files/{upload_id}",
        data=b"x",
        headers={**h, "Upload-Offset": "5", "Content-Type": "text/plain"},
    )
    assert r.status_code == 415
    head = client.head(f"/upload/files/{upload_id}", headers=h)
    assert head.headers["Upload-Offset"] == "5"  # nothing of the refused requests was kept

    other = token_for(runtime, "admin")
    with runtime.db.session() as s:  # a second producer
        from mam.models import Role
        from mam.services.users import UserService

        UserService(s).create("producer2", "correct horse battery", [Role.PRODUCER])
    other = token_for(runtime, "producer2")
    assert client.head(f"/upload/files/{upload_id}", headers=other).status_code == 404
    r = patch(client, other, upload_id, 5, b"12345")
    assert r.status_code == 404 and "不属于您" in r.get_data(as_text=True)
    assert client.delete(f"/upload/files/{upload_id}", headers=other).status_code == 404
    reviewer = token_for(runtime, "reviewer")
    assert client.head(f"/upload/files/{upload_id}", headers=reviewer).status_code == 403

    assert client.delete(f"/upload/files/{upload_id}", headers=h).status_code == 204
    assert client.head(f"/upload/files/{upload_id}", headers=h).status_code == 404


def test_complete_upload_of_non_media_is_refused_and_cleaned(
    client: FlaskClient, runtime: Runtime, producer_headers: dict[str, str], queue: RecordingQueue
) -> None:
    body = b"this is not a film" * 10
    upload_id = create(client, producer_headers, len(body), filename="fake.mp4")
    r = patch(client, producer_headers, upload_id, 0, body)
    assert r.status_code == 422, r.get_data(as_text=True)
    assert "fake.mp4" in r.get_data(as_text=True)
    head = client.head(f"/upload/files/{upload_id}", headers=producer_headers)
    assert head.status_code == 410
    assert queue.calls == []
    assert [o.key for o in runtime.storage.list("")] == []


def test_duplicate_upload_names_the_existing_version(
    client: FlaskClient, producer_headers: dict[str, str], queue: RecordingQueue, fresh_clip: Path
) -> None:
    data = fresh_clip.read_bytes()
    first = create(client, producer_headers, len(data))
    assert patch(client, producer_headers, first, 0, data).status_code == 204
    second = create(client, producer_headers, len(data), title="又一遍")
    r = patch(client, producer_headers, second, 0, data)
    assert r.status_code == 422  # final: a tus client does not send the file again
    assert "库中已有完全相同的内容" in r.get_data(as_text=True)


def test_new_cut_of_an_episode_becomes_next_version(
    client: FlaskClient,
    runtime: Runtime,
    producer_headers: dict[str, str],
    queue: RecordingQueue,
    clip: Path,
    tmp_path: Path,
) -> None:
    a = unique_copy(clip, tmp_path / "a.mp4").read_bytes()
    b = unique_copy(clip, tmp_path / "b.mp4").read_bytes()
    first = create(client, producer_headers, len(a))
    v1 = int(patch(client, producer_headers, first, 0, a).headers["Upload-Version-Id"])
    with runtime.db.session() as s:
        episode_id = s.get(Version, v1).episode_id  # type: ignore[union-attr]
    second = create(client, producer_headers, len(b), episode_id=str(episode_id), title="")
    v2 = int(patch(client, producer_headers, second, 0, b).headers["Upload-Version-Id"])
    with runtime.db.session() as s:
        version = s.get(Version, v2)
        assert version is not None and version.number == 2 and version.episode_id == episode_id


def test_cookie_session_needs_the_csrf_header(
    client: FlaskClient, login: Callable[[str], FlaskClient]
) -> None:
    login("producer")
    headers = {
        **TUS,
        "Upload-Length": "10",
        "Upload-Metadata": meta_header(filename="a.mp4", programme="p", title="t"),
    }
    r = client.post("/upload/files", headers=headers)
    assert r.status_code == 403 and "X-CSRFToken" in r.get_data(as_text=True)
    page = client.get("/upload")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    token = html.split('name="csrf-token" content="')[1].split('"')[0]
    r = client.post("/upload/files", headers={**headers, "X-CSRFToken": token})
    assert r.status_code == 201
    assert "tus.min.js" in html and 'data-testid="dropzone"' in html
    assert csrf_from(html)


def test_abandoned_uploads_expire(
    client: FlaskClient, runtime: Runtime, producer_headers: dict[str, str]
) -> None:
    from datetime import timedelta

    from mam.models import utcnow
    from mam.services.uploads import UploadService

    upload_id = create(client, producer_headers, 100)
    patch(client, producer_headers, upload_id, 0, b"x" * 10)
    staging = runtime.settings.work_dir / "uploads"  # type: ignore[operator]
    assert (staging / f"{upload_id}.part").stat().st_size == 10
    with runtime.db.session() as s:
        service = UploadService(s, runtime.storage, staging, max_size=10**9)
        assert service.expire(utcnow() + timedelta(hours=1)) == 0
        assert service.expire(utcnow() + timedelta(hours=25)) == 1
    assert not (staging / f"{upload_id}.part").exists()
    assert client.head(f"/upload/files/{upload_id}", headers=producer_headers).status_code == 404
    r = patch(client, producer_headers, upload_id, 10, b"more")
    assert r.status_code == 404 and "已过期" in r.get_data(as_text=True)


def test_storage_failure_after_the_last_byte_fails_cleanly(
    client: FlaskClient,
    runtime: Runtime,
    producer_headers: dict[str, str],
    queue: RecordingQueue,
    fresh_clip: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The disk or the database failing as a finished upload is registered: the client is
    told why (503), nothing is half-registered, no bytes are left behind, and a resuming
    client is sent to start a new upload (410), which then works."""
    data = fresh_clip.read_bytes()
    upload_id = create(client, producer_headers, len(data))

    def broken_adopt(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as mp:
        mp.setattr(IngestService, "_adopt", broken_adopt)
        r = patch(client, producer_headers, upload_id, 0, data)
    text = r.get_data(as_text=True)
    assert r.status_code == 503, text
    assert "No space left on device" in text and "请重新上传" in text
    head = client.head(f"/upload/files/{upload_id}", headers=producer_headers)
    assert head.status_code == 410
    with runtime.db.session() as s:
        assert s.get_one(UploadSession, upload_id).state is UploadState.FAILED
        assert s.scalar(select(func.count()).select_from(Version)) == 0
    assert [o.key for o in runtime.storage.list("")] == []
    assert not list(runtime.settings.upload_staging_dir.iterdir())
    assert queue.calls == []

    # the disk has room again: a new upload of the same file goes through
    again = create(client, producer_headers, len(data))
    assert patch(client, producer_headers, again, 0, data).status_code == 204
    assert len(queue.calls) == 1
