"""mam backup / mam restore: into an empty installation, everything is found again."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy import select

from mam.cli import cli
from mam.config import Settings
from mam.models import Episode, Version
from mam.runtime import build_runtime
from mam.services.ingest import IngestService
from tests.conftest import make_settings, unique_copy


def mam(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    with monkeypatch.context() as mp:
        for key, value in settings.to_env().items():
            mp.setenv(key, value)
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def fill(settings: Settings, clip: Path, tmp_path: Path) -> dict[str, str]:
    """Ingest two originals; return {episode title: SHA-256}."""
    rt = build_runtime(settings)
    shas = {}
    try:
        with rt.db.session() as s:
            for n in (1, 2):
                src = unique_copy(clip, tmp_path / f"src{n}.mp4")
                title = f"第{n}集"
                result = IngestService(s, rt.storage).ingest_file(
                    src, programme="时代风采", title=title
                )
                shas[title] = result.version.sha256
            s.commit()
    finally:
        rt.close()
    return shas


def found(settings: Settings) -> dict[str, str]:
    """Return {episode title: SHA-256 of the original as read back from storage}."""
    rt = build_runtime(settings)
    try:
        with rt.db.session() as s:
            out = {}
            for version in s.scalars(select(Version).join(Episode).order_by(Episode.title)):
                with rt.storage.open(version.asset.storage_key) as fh:
                    actual = hashlib.sha256(fh.read()).hexdigest()
                assert actual == version.sha256 == version.asset.sha256
                out[version.episode.title] = actual
            return out
    finally:
        rt.close()


def test_backup_and_restore_on_the_embedded_default(
    settings: Settings, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shas = fill(settings, clip, tmp_path)
    dest = tmp_path / "backup"
    made = mam(settings, monkeypatch, "backup", str(dest))
    assert made.exit_code == 0, made.output
    assert "(copied)" in made.output and (dest / "mam.db").is_file()
    manifest = [json.loads(line) for line in (dest / "manifest.jsonl").read_text().splitlines()]
    assert {e["sha256"] for e in manifest if e["key"].startswith("originals/")} == set(
        shas.values()
    )

    fresh = make_settings(tmp_path / "new-home")  # an empty installation: no database yet
    restored = mam(fresh, monkeypatch, "restore", str(dest))
    assert restored.exit_code == 0, restored.output
    assert f"storage: {len(manifest)} restored" in restored.output
    assert found(fresh) == shas
    again = mam(fresh, monkeypatch, "restore", str(dest))
    assert again.exit_code == 4 or again.exit_code != 0
    assert "restore into an empty one" in again.output
    assert mam(fresh, monkeypatch, "backup", str(dest)).exit_code != 0  # never over a backup


@pytest.mark.postgres
def test_backup_and_restore_on_postgresql_and_s3(
    home: Path,
    pg_url: str,
    moto_endpoint: str,
    clip: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def s3(bucket: str) -> Settings:
        return make_settings(
            home, database_url=pg_url, storage_backend="s3", s3_bucket=bucket,
            s3_endpoint_url=moto_endpoint, s3_create_bucket=True,
        )  # fmt: skip

    first = s3(f"bk-{uuid.uuid4().hex[:8]}")
    shas = fill(first, clip, tmp_path)
    manifest_only = tmp_path / "manifest-only"
    made = mam(first, monkeypatch, "backup", str(manifest_only))
    assert made.exit_code == 0, made.output
    assert "(manifest only)" in made.output and not (manifest_only / "objects").exists()
    full = tmp_path / "full"
    assert mam(first, monkeypatch, "backup", str(full), "--with-objects").exit_code == 0
    assert (full / "database.pgdump").stat().st_size > 0

    def empty_database() -> None:
        schema = pg_url.rsplit("%3D", 1)[1]
        engine = sa.create_engine(pg_url.split("?", maxsplit=1)[0])
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        engine.dispose()

    # A new server: empty database, empty bucket; the objects come from the backup.
    empty_database()
    second = s3(f"bk-{uuid.uuid4().hex[:8]}")
    restored = mam(second, monkeypatch, "restore", str(full))
    assert restored.exit_code == 0, restored.output
    assert found(second) == shas

    # The database lost, the bucket kept: the manifest-only backup finds every object there.
    empty_database()
    restored = mam(first, monkeypatch, "restore", str(manifest_only))
    assert restored.exit_code == 0, restored.output
    assert "0 restored" in restored.output and "0 missing" in restored.output
    assert found(first) == shas
