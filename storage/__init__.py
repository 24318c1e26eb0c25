"""Object storage for media assets: a local-disk and an S3 backend behind one interface.

Use :func:`create_storage` (``create_storage("local", root=...)`` or
``create_storage("s3", bucket=..., endpoint_url=...)``) rather than importing
a backend module, so that boto3 is only imported when S3 is used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from storage.base import (
    InvalidKey,
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StorageError,
    content_disposition,
    validate_key,
    validate_prefix,
)
from storage.local import LocalStorage

__all__ = [
    "InvalidKey",
    "LocalStorage",
    "ObjectInfo",
    "ObjectNotFound",
    "Storage",
    "StorageError",
    "available_backends",
    "content_disposition",
    "create_storage",
    "register_backend",
    "validate_key",
    "validate_prefix",
]

StorageFactory = Callable[..., Storage]


def _s3_factory(**options: Any) -> Storage:
    """Build an S3Storage (imports boto3 lazily)."""
    from storage.s3 import S3Storage  # noqa: PLC0415 - keep boto3 out of local-only processes

    return S3Storage(**options)


_BACKENDS: dict[str, StorageFactory] = {"local": LocalStorage, "s3": _s3_factory}


def register_backend(name: str, factory: StorageFactory) -> None:
    """Register (or replace) the factory used by ``create_storage(name, ...)``."""
    if not name:
        raise ValueError("backend name must not be empty")
    _BACKENDS[name] = factory


def available_backends() -> list[str]:
    """Return the registered backend names, sorted."""
    return sorted(_BACKENDS)


def create_storage(backend: str, **options: Any) -> Storage:
    """Instantiate the ``backend`` storage with keyword ``options``."""
    try:
        factory = _BACKENDS[backend]
    except KeyError:
        known = ", ".join(available_backends())
        raise ValueError(f"unknown storage backend {backend!r}; known backends: {known}") from None
    return factory(**options)
