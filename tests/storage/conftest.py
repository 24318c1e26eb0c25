"""Fixtures for the storage tests: a real moto S3 server and both backends."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from storage import Storage, create_storage

MiB = 1 << 20
TEST_MULTIPART_THRESHOLD = 5 * MiB
TEST_MULTIPART_CHUNKSIZE = 5 * MiB  # S3's minimum part size


@pytest.fixture
def s3_options(moto_endpoint: str) -> dict[str, Any]:
    """Return S3Storage options for a fresh, auto-created bucket on the moto server."""
    return {
        "bucket": f"test-{uuid.uuid4().hex[:16]}",
        "endpoint_url": moto_endpoint,
        "region_name": "us-east-1",
        "create_bucket": True,
        "multipart_threshold": TEST_MULTIPART_THRESHOLD,
        "multipart_chunksize": TEST_MULTIPART_CHUNKSIZE,
    }


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """Return an empty storage of each backend (local under tmp_path, S3 on a fresh bucket)."""
    if request.param == "local":
        return create_storage("local", root=tmp_path / "store")
    options: dict[str, Any] = request.getfixturevalue("s3_options")
    return create_storage("s3", **options)
