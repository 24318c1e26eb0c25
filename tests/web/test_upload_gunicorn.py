"""tus under gunicorn (gthread, two workers) as in production: the body is read off the socket."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from tusclient import client as tus_client

from mam import migrate
from mam.models import Role, Version
from mam.models.catalogue import UploadSession
from mam.runtime import build_runtime
from mam.services.tokens import TokenService
from mam.services.users import UserService
from tests.conftest import make_settings
from tests.web.tus_helpers import cut_patch, padded_copy

pytest.importorskip("gunicorn")
pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def gunicorn_server(home: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    settings = make_settings(home)
    migrate.upgrade(settings.database_url)
    rt = build_runtime(settings)
    with rt.db.session() as s:
        user = UserService(s).create("producer", "correct horse battery", [Role.PRODUCER])
        secret, _ = TokenService(s).issue(user, "gunicorn")
    rt.close()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAM_")}
    env["MAM_HOME"] = str(home)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "web:create_app()", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--worker-class", "gthread", "--threads", "2", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {secret}"}, home
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def padded_clip(clip: Path, tmp_path: Path) -> Path:
    return padded_copy(clip, tmp_path / "长片.mp4", seed=9, pad=3_000_000)


def stored_sha(home: Path, upload_id: str) -> str:
    rt = build_runtime(make_settings(home))
    try:
        with rt.db.session() as s:
            upload = s.get(UploadSession, upload_id)
            assert upload is not None and upload.version_id is not None, upload and upload.error
            version = s.scalar(select(Version).where(Version.id == upload.version_id))
            assert version is not None
            with rt.storage.open(version.asset.storage_key) as fh:
                assert hashlib.sha256(fh.read()).hexdigest() == version.sha256
            return version.sha256
    finally:
        rt.close()


def test_tuspy_upload_with_cuts_through_gunicorn(
    gunicorn_server: tuple[str, dict[str, str], Path], padded_clip: Path
) -> None:
    url, headers, home = gunicorn_server
    data = padded_clip.read_bytes()
    client = tus_client.TusClient(f"{url}/upload/files", headers=headers)
    meta = {"filename": padded_clip.name, "programme": "时代风采", "title": "生产服务器"}
    with padded_clip.open("rb") as stream:
        uploader = client.uploader(file_stream=stream, chunk_size=700_000, metadata=meta)
        uploader.upload(stop_at=1_000_000)
        assert uploader.url is not None
        upload_url = uploader.url
        offset = uploader.offset
        cut_patch(upload_url, headers, data, offset, 123_457)  # dropped mid-body
        tus = {**headers, "Tus-Resumable": "1.0.0"}
        deadline = time.monotonic() + 10  # the server commits once it sees the cut
        while time.monotonic() < deadline:
            head = requests.head(upload_url, headers=tus, timeout=10)
            if head.headers.get("Upload-Offset") == str(offset + 123_457):
                break
            time.sleep(0.05)
        uploader = client.uploader(
            file_stream=stream, chunk_size=700_000, metadata=meta, url=upload_url
        )
        assert uploader.offset == offset + 123_457
        uploader.upload()  # PATCHes land on both workers: the hash state is in the database
    assert stored_sha(home, upload_url.rsplit("/", 1)[1]) == hashlib.sha256(data).hexdigest()


def test_patches_on_one_keep_alive_connection(
    gunicorn_server: tuple[str, dict[str, str], Path], padded_clip: Path
) -> None:
    url, headers, home = gunicorn_server
    data = padded_clip.read_bytes()
    tus = {**headers, "Tus-Resumable": "1.0.0"}
    with requests.Session() as http:
        created = http.post(
            f"{url}/upload/files",
            headers={**tus, "Upload-Length": str(len(data)),
                     "Upload-Metadata": "filename YS5tcDQ=,programme cA==,title dA=="},
            timeout=30,
        )  # fmt: skip
        assert created.status_code == 201, created.text
        location = created.headers["Location"]
        cut = len(data) // 2
        for offset, piece in ((0, data[:cut]), (cut, data[cut:])):
            r = http.patch(
                location,
                data=piece,
                headers={**tus, "Upload-Offset": str(offset),
                         "Content-Type": "application/offset+octet-stream"},
                timeout=30,
            )  # fmt: skip
            assert r.status_code == 204, r.text
            head = http.head(location, headers=tus, timeout=30)  # same connection, next request
            assert head.status_code == 200
            assert head.headers.get("Upload-Offset") == str(offset + len(piece))
    assert stored_sha(home, location.rsplit("/", 1)[1]) == hashlib.sha256(data).hexdigest()
