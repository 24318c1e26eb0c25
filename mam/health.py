"""Readiness checks: database, broker, storage and the work dir's free space."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from mam.runtime import Runtime


@dataclass(frozen=True)
class CheckResult:
    """One dependency's state: ``ok`` and a short detail (the error when it failed)."""

    name: str
    ok: bool
    detail: str
    seconds: float


def _database(rt: Runtime, session: Session) -> str:
    session.execute(text("SELECT 1"))
    return rt.db.dialect


def _broker(rt: Runtime, _session: Session) -> str:
    settings = rt.settings
    if settings.embedded_broker:
        folder = Path(settings.broker_dir or settings.home / "broker") / "queue"
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            raise RuntimeError(f"broker folder {folder} is not writable")
        return f"filesystem {folder}"
    from kombu import Connection  # noqa: PLC0415 - kombu only, never celery, in mam/

    with Connection(settings.broker_url, connect_timeout=3) as conn:
        conn.ensure_connection(max_retries=1, timeout=3)
        return f"{conn.transport_cls} {conn.as_uri()}"


def _storage(rt: Runtime, _session: Session) -> str:
    rt.storage.exists("readyz/probe")  # a round trip: bucket reachable, credentials accepted
    return rt.settings.storage_backend


def _work_dir(rt: Runtime, _session: Session) -> str:
    settings = rt.settings
    work = Path(settings.work_dir or settings.home / "tmp")
    work.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(work).free
    if free < settings.min_free_bytes:
        raise RuntimeError(
            f"{work}: {free:,} bytes free, below MAM_MIN_FREE_BYTES ({settings.min_free_bytes:,})"
        )
    return f"{work}: {free:,} bytes free"


CHECKS: dict[str, Callable[[Runtime, Session], str]] = {
    "database": _database,
    "broker": _broker,
    "storage": _storage,
    "work_dir": _work_dir,
}


def readiness(rt: Runtime, session: Session) -> list[CheckResult]:
    """Run every check; a failure is reported with its reason, never raised.

    ``session`` is the caller's (on SQLite a second one would wait for its write lock).
    """
    results = []
    for name, check in CHECKS.items():
        start = time.monotonic()
        try:
            detail, ok = check(rt, session), True
        except Exception as exc:  # noqa: BLE001 - a readiness check reports any failure
            detail, ok = f"{type(exc).__name__}: {exc}", False
        results.append(CheckResult(name, ok, detail, round(time.monotonic() - start, 4)))
    return results
