"""The upload fast paths can be switched off; the slow paths then carry the same upload."""

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

from mam import migrate
from mam.models import Role
from mam.models.catalogue import UploadSession
from mam.runtime import build_runtime
from mam.services.tokens import TokenService
from mam.services.users import UserService
from tests.conftest import make_settings
from tests.web.test_upload_gunicorn import free_port, stored_sha
from tests.web.tus_helpers import cut_patch, padded_copy

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["fast", "slow"])
def server(request: pytest.FixtureRequest, home: Path) -> Iterator[tuple[str, dict, Path, str]]:  # type: ignore[type-arg]
    settings = make_settings(home)
    migrate.upgrade(settings.database_url)
    rt = build_runtime(settings)
    with rt.db.session() as s:
        user = UserService(s).create("producer", "correct horse battery", [Role.PRODUCER])
        secret, _ = TokenService(s).issue(user, "fast-paths")
    rt.close()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAM_")}
    env["MAM_HOME"] = str(home)
    flag = "1" if request.param == "fast" else "0"
    env["MAM_FAST_SOCKET_READ"] = env["MAM_RESUMABLE_SHA256_CTYPES"] = flag
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "web:create_app()", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--worker-class", "gthread", "--threads", "2", "--log-level", "warning"],
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
        yield f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {secret}"}, home, request.param
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def saved_state(home: Path, upload_id: str) -> bytes | None:
    rt = build_runtime(make_settings(home))
    try:
        with rt.db.session() as s:
            return s.get_one(UploadSession, upload_id).sha256_state
    finally:
        rt.close()


def test_interrupted_upload_completes_on_either_path(
    server: tuple[str, dict, Path, str],  # type: ignore[type-arg]
    clip: Path,
    tmp_path: Path,
) -> None:
    url, headers, home, path = server
    data = padded_copy(clip, tmp_path / "长片.mp4", seed=3, pad=2_000_000).read_bytes()
    tus = {**headers, "Tus-Resumable": "1.0.0"}
    created = requests.post(
        f"{url}/upload/files",
        headers={**tus, "Upload-Length": str(len(data)),
                 "Upload-Metadata": "filename YS5tcDQ=,programme cA==,title dA=="},
        timeout=30,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    upload_id = location.rsplit("/", 1)[1]
    cut_patch(location, headers, data, 0, 1_234_567)  # the connection drops mid-body
    deadline = time.monotonic() + 10
    offset = 0
    while time.monotonic() < deadline and offset != 1_234_567:
        offset = int(requests.head(location, headers=tus, timeout=10).headers["Upload-Offset"])
        time.sleep(0.05)
    assert offset == 1_234_567
    # ctypes on: the hash state is saved with the offset; off: nothing saved, re-read later.
    assert (saved_state(home, upload_id) is not None) == (path == "fast")
    rest = requests.patch(
        location,
        data=data[offset:],
        headers={**tus, "Upload-Offset": str(offset),
                 "Content-Type": "application/offset+octet-stream"},
        timeout=60,
    )  # fmt: skip
    assert rest.status_code == 204, rest.text
    assert stored_sha(home, upload_id) == hashlib.sha256(data).hexdigest()
