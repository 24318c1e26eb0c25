"""ingest_stored: a finished upload with a known SHA-256, moved (local) or streamed (S3)."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mam.errors import Conflict, InvalidMedia
from mam.models import Version
from mam.runtime import Runtime
from mam.services.ingest import IngestService
from storage import create_storage


def test_local_upload_is_renamed_into_storage(
    runtime: Runtime, session: Session, fresh_clip: Path, tmp_path: Path
) -> None:
    staged = runtime.settings.work_dir / "uploads" / "abc.part"  # type: ignore[operator]
    staged.parent.mkdir(parents=True)
    shutil.copyfile(fresh_clip, staged)
    sha = hashlib.sha256(staged.read_bytes()).hexdigest()
    inode = staged.stat().st_ino
    result = IngestService(session, runtime.storage).ingest_stored(
        staged, sha256=sha, programme="时代风采", title="上传", filename="上传.mp4"
    )
    assert not staged.exists()
    stored = runtime.storage.local_path(f"originals/{sha}")
    assert stored is not None and stored.stat().st_ino == inode  # renamed, not copied
    assert result.version.asset.original_filename == "上传.mp4"
    assert result.version.asset.size == fresh_clip.stat().st_size

    again = tmp_path / "again.part"
    shutil.copyfile(fresh_clip, again)
    with pytest.raises(Conflict, match="already in the library"):
        IngestService(session, runtime.storage).ingest_stored(
            again, sha256=sha, programme="时代风采", title="别的"
        )
    assert again.exists()  # refused before storing: left for the caller to clean up

    junk = tmp_path / "junk.part"
    junk.write_bytes(b"no video here" * 100)
    with pytest.raises(InvalidMedia):
        IngestService(session, runtime.storage).ingest_stored(
            junk, sha256=hashlib.sha256(junk.read_bytes()).hexdigest(), programme="p", title="t"
        )
    assert session.scalar(select(func.count()).select_from(Version)) == 1


def test_upload_is_streamed_to_s3(
    runtime: Runtime, session: Session, fresh_clip: Path, tmp_path: Path, moto_endpoint: str
) -> None:
    s3 = create_storage(
        "s3",
        bucket=f"test-{uuid.uuid4().hex[:16]}",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        create_bucket=True,
    )
    staged = tmp_path / "x.part"
    shutil.copyfile(fresh_clip, staged)
    sha = hashlib.sha256(staged.read_bytes()).hexdigest()
    result = IngestService(session, s3).ingest_stored(
        staged, sha256=sha, programme="时代风采", title="S3"
    )
    assert not staged.exists()
    with s3.open(result.version.asset.storage_key) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == sha
