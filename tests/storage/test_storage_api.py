"""Key rules, errors, Content-Disposition and the backend registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import storage as storage_pkg
from storage import (
    InvalidKey,
    ObjectNotFound,
    Storage,
    StorageError,
    content_disposition,
    create_storage,
    register_backend,
    validate_key,
    validate_prefix,
)
from storage.local import LocalStorage


@pytest.mark.parametrize(
    "key",
    ["a", "a/b/c.mp4", "课程/第一章 引言.mp4", ".hidden", "a..b/c", "x" * 1024, "é" * 512],
)
def test_valid_keys(key: str) -> None:
    assert validate_key(key) is key


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/abs",
        "a//b",
        "a/./b",
        "a/../b",
        "..",
        ".",
        "a/",
        "a\\b",
        "x\x00y",
        "x" * 1025,
        "é" * 513,
        "\udcff",
    ],
)
def test_invalid_keys(key: str) -> None:
    with pytest.raises(InvalidKey):
        validate_key(key)


def test_non_string_key() -> None:
    with pytest.raises(InvalidKey):
        validate_key(b"bytes")  # type: ignore[arg-type]


def test_prefix_rules() -> None:
    assert validate_prefix("") == ""
    assert validate_prefix("a/b/") == "a/b/"
    assert validate_prefix("a/b") == "a/b"
    for bad in ("/", "a//", "../", "a/./"):
        with pytest.raises(InvalidKey):
            validate_prefix(bad)
    with pytest.raises(InvalidKey):
        validate_prefix("", allow_empty=False)


def test_error_hierarchy() -> None:
    err = ObjectNotFound("assets/1.mp4")
    assert isinstance(err, StorageError)
    assert isinstance(err, KeyError)
    assert err.key == "assets/1.mp4"
    assert "assets/1.mp4" in str(err)
    assert issubclass(InvalidKey, ValueError)
    assert issubclass(InvalidKey, StorageError)


def test_content_disposition() -> None:
    assert content_disposition("a.mp4") == 'attachment; filename="a.mp4"'
    assert content_disposition("a.mp4", "inline") == 'inline; filename="a.mp4"'
    assert content_disposition("视频.mp4") == (
        "attachment; filename=\"__.mp4\"; filename*=UTF-8''%E8%A7%86%E9%A2%91.mp4"
    )
    assert content_disposition('say "hi"\r\n.txt') == (
        "attachment; filename=\"say _hi_.txt\"; filename*=UTF-8''say%20%22hi%22.txt"
    )
    assert content_disposition("café.mp4").startswith('attachment; filename="cafe.mp4"; ')


def test_unknown_backend_lists_known_ones() -> None:
    with pytest.raises(ValueError, match=r"'ftp'.*local, s3"):
        create_storage("ftp")


def test_register_backend(tmp_path: Path) -> None:
    made: list[dict[str, Any]] = []

    def factory(**options: Any) -> Storage:
        made.append(options)
        return LocalStorage(tmp_path / "custom")

    register_backend("custom-test", factory)
    try:
        store = create_storage("custom-test", flavour="x")
        assert isinstance(store, LocalStorage)
        assert made == [{"flavour": "x"}]
        assert "custom-test" in storage_pkg.available_backends()
    finally:
        storage_pkg._BACKENDS.pop("custom-test", None)
    with pytest.raises(ValueError, match="empty"):
        register_backend("", factory)


def test_public_names() -> None:
    for name in (
        "Storage",
        "ObjectInfo",
        "StorageError",
        "ObjectNotFound",
        "InvalidKey",
        "validate_key",
        "create_storage",
        "register_backend",
    ):
        assert name in storage_pkg.__all__
