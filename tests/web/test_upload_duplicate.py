"""tus: a file already in the library ends at once (a final status, never retried), with a
link to the version that has it; the page's fingerprint refuses it before the bytes go."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from mam.models import Version
from mam.models.catalogue import UploadSession
from mam.runtime import Runtime
from mam.services.fingerprints import SAMPLE, file_fingerprint
from tests.web.test_upload import RecordingQueue, meta_header, patch, token_for
from tests.web.tus_helpers import padded_copy

SIZE = 2 * SAMPLE + 200_000
FINAL = {400, 403, 404, 410, 413, 415, 422}  # 4xx that tus-js-client does not retry


@pytest.fixture
def h(app: Flask, runtime: Runtime) -> dict[str, str]:
    app.extensions["mam_queue"] = RecordingQueue()
    return token_for(runtime, "producer")


def post(client: FlaskClient, h: dict[str, str], length: int, **meta: str) -> object:
    fields = {"filename": "片子.mp4", "programme": "时代风采", "title": "第1集", **meta}
    return client.post(
        "/upload/files",
        headers={**h, "Upload-Length": str(length), "Upload-Metadata": meta_header(**fields)},
    )


def upload(client: FlaskClient, h: dict[str, str], data: bytes, **meta: str) -> object:
    r = post(client, h, len(data), **meta)
    assert r.status_code == 201, r.get_data(as_text=True)  # type: ignore[attr-defined]
    upload_id = r.headers["Location"].rsplit("/", 1)[1]  # type: ignore[attr-defined]
    return patch(client, h, upload_id, 0, data)


def sessions(runtime: Runtime) -> int:
    with runtime.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(UploadSession)) or 0)


@pytest.fixture
def film(clip: Path, tmp_path: Path) -> Path:
    return padded_copy(clip, tmp_path / "原片.mp4", seed=7, total=SIZE)


def first_version(client: FlaskClient, h: dict[str, str], film: Path, runtime: Runtime) -> int:
    r = upload(client, h, film.read_bytes())
    assert r.status_code == 204  # type: ignore[attr-defined]
    vid = int(r.headers["Upload-Version-Id"])  # type: ignore[attr-defined]
    with runtime.db.session() as s:
        return s.get_one(Version, vid).episode_id


def test_a_duplicate_found_after_the_transfer_is_final_and_names_the_version(
    client: FlaskClient, h: dict[str, str], runtime: Runtime, film: Path
) -> None:
    episode = first_version(client, h, film, runtime)
    r = upload(client, h, film.read_bytes(), title="又一遍")
    assert r.status_code in FINAL, r.status_code  # type: ignore[attr-defined]
    assert r.headers["Upload-Duplicate"] == "sha256"  # type: ignore[attr-defined]
    assert r.headers["Link"] == f'</episodes/{episode}#version-1>; rel="duplicate"'  # type: ignore[attr-defined]
    text = r.get_data(as_text=True)  # type: ignore[attr-defined]
    assert "库中已有完全相同的内容" in text and "《时代风采》第1集 第 1 版" in text


def test_the_fingerprint_refuses_a_duplicate_before_any_byte_is_sent(
    client: FlaskClient, h: dict[str, str], runtime: Runtime, film: Path
) -> None:
    episode = first_version(client, h, film, runtime)
    r = post(client, h, SIZE, title="又一遍", fingerprint=file_fingerprint(film))
    assert r.status_code in FINAL  # type: ignore[attr-defined]
    assert r.headers["Upload-Duplicate"] == "fingerprint"  # type: ignore[attr-defined]
    assert r.headers["Link"] == f'</episodes/{episode}#version-1>; rel="duplicate"'  # type: ignore[attr-defined]
    assert "相同" in r.get_data(as_text=True)  # type: ignore[attr-defined]
    assert sessions(runtime) == 1  # only the first upload: nothing was opened


def test_a_different_file_with_a_similar_fingerprint_is_accepted(
    client: FlaskClient, h: dict[str, str], runtime: Runtime, film: Path, tmp_path: Path
) -> None:
    first_version(client, h, film, runtime)
    data = bytearray(film.read_bytes())
    data[-5] ^= 0xFF  # same size and beginning, another end
    other = tmp_path / "另一部.mp4"
    other.write_bytes(bytes(data))
    r = upload(client, h, bytes(data), title="另一部", fingerprint=file_fingerprint(other))
    assert r.status_code == 204  # type: ignore[attr-defined]


def test_a_file_differing_only_in_the_middle_can_still_be_sent(
    client: FlaskClient, h: dict[str, str], runtime: Runtime, film: Path, tmp_path: Path
) -> None:
    first_version(client, h, film, runtime)
    data = bytearray(film.read_bytes())
    data[SIZE // 2] ^= 0xFF  # a change no end sample sees
    middle = tmp_path / "改中间.mp4"
    middle.write_bytes(bytes(data))
    r = post(client, h, SIZE, title="改中间", fingerprint=file_fingerprint(middle))
    assert r.status_code == 422  # type: ignore[attr-defined]
    # The page offers "send it anyway": without the fingerprint the full SHA-256 decides.
    r = upload(client, h, bytes(data), title="改中间")
    assert r.status_code == 204, r.get_data(as_text=True)  # type: ignore[attr-defined]


def test_a_malformed_fingerprint_is_a_clear_error(
    client: FlaskClient, h: dict[str, str], runtime: Runtime
) -> None:
    r = post(client, h, 100, fingerprint="12:abc")
    assert r.status_code == 400  # type: ignore[attr-defined]
    assert "指纹" in r.get_data(as_text=True)  # type: ignore[attr-defined]
    assert sessions(runtime) == 0


def test_the_json_api_refuses_a_known_fingerprint_too(
    client: FlaskClient, h: dict[str, str], runtime: Runtime, film: Path
) -> None:
    first_version(client, h, film, runtime)
    body = {"length": SIZE, "filename": "再来.mp4", "programme": "时代风采", "title": "再来"}
    r = client.post(
        "/api/v1/uploads", json={**body, "fingerprint": file_fingerprint(film)}, headers=h
    )
    assert r.status_code == 409
    assert "相同" in r.get_json()["error"]
    assert sessions(runtime) == 1
    r = client.post("/api/v1/uploads", json=body, headers=h)
    assert r.status_code == 201  # without it, the full SHA-256 decides at the end
