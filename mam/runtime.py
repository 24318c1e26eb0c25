"""Wire settings, database and storage together once per process."""

from __future__ import annotations

from dataclasses import dataclass

from mam.config import Settings
from mam.db import Database
from storage import Storage, create_storage
from storage.hashing import allow_ctypes_sha256


@dataclass
class Runtime:
    """The process-wide collaborators every entry point needs."""

    settings: Settings
    db: Database
    storage: Storage

    def close(self) -> None:
        """Release pooled connections."""
        self.db.dispose()


def build_runtime(settings: Settings | None = None) -> Runtime:
    """Build a runtime from ``settings`` (default: the environment)."""
    settings = settings or Settings.from_env()
    allow_ctypes_sha256(settings.resumable_sha256_ctypes)
    storage = create_storage(settings.storage_backend, **settings.storage_options())
    return Runtime(settings=settings, db=Database(settings.database_url), storage=storage)
