from __future__ import annotations

from pathlib import Path

import pytest

from mam.config import Settings


def test_embedded_defaults_live_under_home(tmp_path: Path) -> None:
    s = Settings.from_env({"MAM_HOME": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'mam.db'}"
    assert s.storage_backend == "local"
    assert s.storage_root == tmp_path / "storage"
    assert s.broker_url == "filesystem://localhost//"
    assert s.embedded_broker
    assert s.broker_dir == tmp_path / "broker"
    assert s.default_locale == "zh_CN"


def test_environment_overrides_with_types(tmp_path: Path) -> None:
    s = Settings.from_env(
        {
            "MAM_HOME": str(tmp_path),
            "MAM_DATABASE_URL": "postgresql+psycopg://mam@db/mam",
            "MAM_BROKER_URL": "redis://redis:6379/0",
            "MAM_MAX_ATTEMPTS": "5",
            "MAM_S3_CREATE_BUCKET": "yes",
            "MAM_MAX_UPLOAD_SIZE": "1_000_000",
        }
    )
    assert s.database_url.startswith("postgresql")
    assert not s.embedded_broker
    assert s.max_attempts == 5
    assert s.s3_create_bucket is True
    assert s.max_upload_size == 1_000_000


def test_bad_values_name_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="MAM_MAX_ATTEMPTS: expected an integer"):
        Settings.from_env({"MAM_HOME": str(tmp_path), "MAM_MAX_ATTEMPTS": "many"})
    with pytest.raises(ValueError, match="MAM_S3_CREATE_BUCKET"):
        Settings.from_env({"MAM_HOME": str(tmp_path), "MAM_S3_CREATE_BUCKET": "perhaps"})


def test_s3_needs_a_bucket(tmp_path: Path) -> None:
    s = Settings.from_env({"MAM_HOME": str(tmp_path), "MAM_STORAGE_BACKEND": "s3"})
    with pytest.raises(ValueError, match="MAM_S3_BUCKET"):
        s.storage_options()
    s = Settings.from_env(
        {
            "MAM_HOME": str(tmp_path),
            "MAM_STORAGE_BACKEND": "s3",
            "MAM_S3_BUCKET": "films",
            "MAM_S3_ENDPOINT_URL": "http://minio:9000",
        }
    )
    assert s.storage_options()["endpoint_url"] == "http://minio:9000"
    assert s.storage_options()["bucket"] == "films"


def test_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    a = Settings.from_env({"MAM_HOME": str(tmp_path)})
    b = Settings.from_env({"MAM_HOME": str(tmp_path)})
    assert a.secret_key == b.secret_key and len(a.secret_key) > 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_to_env_round_trips(tmp_path: Path) -> None:
    s = Settings.from_env({"MAM_HOME": str(tmp_path), "MAM_S3_CREATE_BUCKET": "1"})
    assert Settings.from_env(s.to_env()) == s
