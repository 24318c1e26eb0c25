"""Fingerprints of originals (size + SHA-256 of both 4 MiB ends): stored at ingest, looked up
by size, computed from storage for assets stored before they existed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from mam.db import Database
from mam.errors import Duplicate
from mam.models import Asset
from mam.services.fingerprints import SAMPLE, FingerprintIndex, file_fingerprint, parse
from mam.services.ingest import IngestService
from storage import Storage, create_storage
from tests.web.tus_helpers import padded_copy

SIZE = 2 * SAMPLE + 300_000  # a middle that neither end covers


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """Local storage, and S3 through boto3 against moto's server."""
    if request.param == "local":
        return create_storage("local", root=tmp_path / "store")
    endpoint = request.getfixturevalue("moto_endpoint")
    return create_storage(
        "s3", bucket=f"fp-{uuid.uuid4().hex[:16]}",
        endpoint_url=endpoint, region_name="us-east-1", create_bucket=True,
    )  # fmt: skip


@pytest.fixture
def db_session(database_url: str) -> Iterator[Session]:
    db = Database(database_url)
    with db.session() as s:
        yield s
    db.dispose()


def changed(src: Path, dest: Path, at: int) -> Path:
    data = bytearray(src.read_bytes())
    data[at] ^= 0xFF
    dest.write_bytes(bytes(data))
    return dest


def test_ingest_stores_the_fingerprint_and_only_an_exact_match_is_found(
    db_session: Session, storage: Storage, clip: Path, tmp_path: Path
) -> None:
    film = padded_copy(clip, tmp_path / "原片.mp4", seed=1, total=SIZE)
    version = IngestService(db_session, storage).ingest_file(film, programme="P", title="T").version
    value = file_fingerprint(film)
    assert version.asset.fingerprint == value
    assert value.startswith(f"{SIZE}:")
    index = FingerprintIndex(db_session, storage)
    assert index.find(value) is not None and index.find(value).id == version.id  # type: ignore[union-attr]
    with pytest.raises(Duplicate) as refused:
        index.refuse(value, "又一份.mp4")
    assert refused.value.details["match"] == "fingerprint"
    assert refused.value.details["version_id"] == version.id
    assert "is identical to 《P》 T, version 1" in refused.value.message

    for at in (10, SIZE - 10):  # a different first or last byte: a different file
        other = file_fingerprint(changed(film, tmp_path / f"改{at}.mp4", at))
        assert other != value and index.find(other) is None
    longer = padded_copy(film, tmp_path / "长.mp4", seed=2, pad=1)
    assert index.find(file_fingerprint(longer)) is None
    # The middle is not sampled: such a file matches here, and only the full SHA-256 tells.
    assert file_fingerprint(changed(film, tmp_path / "中.mp4", SIZE // 2)) == value


def test_an_asset_from_before_fingerprints_gets_one_when_a_file_of_its_size_comes(
    db_session: Session, storage: Storage, clip: Path, tmp_path: Path
) -> None:
    film = padded_copy(clip, tmp_path / "旧片.mp4", seed=3, total=SIZE)
    lost = padded_copy(clip, tmp_path / "丢失.mp4", seed=4, total=SIZE)
    ingest = IngestService(db_session, storage)
    old = ingest.ingest_file(film, programme="P", title="旧").version
    gone = ingest.ingest_file(lost, programme="P", title="丢").version
    for asset in (old.asset, gone.asset):
        asset.fingerprint = None  # as the 0014 migration leaves existing rows
    db_session.commit()
    storage.delete(gone.asset.storage_key)  # one original is missing: it is skipped

    found = FingerprintIndex(db_session, storage).find(file_fingerprint(film))
    assert found is not None and found.id == old.id
    db_session.expire_all()
    assert db_session.get(Asset, old.asset_id).fingerprint == file_fingerprint(film)  # type: ignore[union-attr]
    assert db_session.get(Asset, gone.asset_id).fingerprint is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text", ["", "12:ab:cd", f"12:{'g' * 64}:{'b' * 64}", f"0:{'a' * 64}:{'b' * 64}"]
)
def test_a_malformed_fingerprint_is_refused(text: str) -> None:
    with pytest.raises(Exception, match="fingerprint"):
        parse(text, 12)
    assert parse(f"12:{'A' * 64}:{'b' * 64}", 12) == f"12:{'a' * 64}:{'b' * 64}"


def test_a_fingerprint_of_another_size_is_ignored() -> None:
    assert parse(f"13:{'a' * 64}:{'b' * 64}", 12) is None
