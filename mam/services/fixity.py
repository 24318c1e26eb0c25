"""Fixity audit: re-hash stored originals and packages a bounded number of bytes at a time.

Each run takes the objects checked longest ago (never-checked first) until the byte budget
is spent, records every check, and on a mismatch or a missing object marks it damaged,
writes an audit event and tells the administrators (inbox, mail when configured).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.audit import AuditAction, ObjectType, record
from mam.models import Asset, Role, User, UserRole, utcnow
from mam.models.fixity import FixityCheck, FixityObject, FixityResult
from mam.models.release import ReleasePackage
from mam.services.notify import Notice, Notifier, NullNotifier
from mam.uow import after_commit
from storage import ObjectNotFound, Storage

log = logging.getLogger(__name__)
BLOCK = 1 << 20


@dataclass
class FixityRun:
    """What one run checked."""

    checked: list[FixityCheck] = field(default_factory=list)
    bytes: int = 0

    @property
    def problems(self) -> list[FixityCheck]:
        return [c for c in self.checked if c.result is not FixityResult.OK]


def sha256_of(storage: Storage, key: str) -> tuple[str, int]:
    """Stream ``key`` from storage; return its SHA-256 and size."""
    digest = hashlib.sha256()
    size = 0
    with storage.open(key) as fh:
        while chunk := fh.read(BLOCK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class FixityAudit:
    """Enrol stored objects and re-hash them within a byte budget (the caller commits)."""

    def __init__(
        self,
        session: Session,
        storage: Storage,
        *,
        notifier: Notifier | None = None,
        on_result: Callable[[FixityCheck], None] | None = None,
    ) -> None:
        self.session = session
        self.storage = storage
        self.notifier = notifier or NullNotifier()
        self.on_result = on_result

    def enrol(self) -> int:
        """Add every original and built package not yet under audit; return how many."""
        known = set(self.session.scalars(select(FixityObject.storage_key)))
        added = 0
        for asset in self.session.scalars(select(Asset)):
            if asset.storage_key not in known:
                self.session.add(FixityObject(
                    storage_key=asset.storage_key, kind="original", object_id=asset.id,
                    sha256=asset.sha256, size=asset.size,
                ))  # fmt: skip
                known.add(asset.storage_key)
                added += 1
        for package in self.session.scalars(
            select(ReleasePackage).where(
                ReleasePackage.storage_key.is_not(None), ReleasePackage.sha256.is_not(None)
            )
        ):
            key = package.storage_key or ""
            if key not in known:
                self.session.add(FixityObject(
                    storage_key=key, kind="package", object_id=package.id,
                    sha256=package.sha256 or "", size=package.size or 0,
                ))  # fmt: skip
                known.add(key)
                added += 1
        self.session.flush()
        return added

    def due(self) -> list[FixityObject]:
        """Return the objects in audit order: never checked, then checked longest ago."""
        objects = list(self.session.scalars(select(FixityObject)))
        return sorted(
            objects, key=lambda o: (o.last_checked_at is not None, o.last_checked_at or utcnow())
        )

    def run(self, budget_bytes: int) -> FixityRun:
        """Check objects until ``budget_bytes`` are read (at least one object per run)."""
        self.enrol()
        result = FixityRun()
        for obj in self.due():
            if result.checked and result.bytes + obj.size > budget_bytes:
                break
            check = self.check(obj)
            result.checked.append(check)
            result.bytes += check.size or 0
        return result

    def check(self, obj: FixityObject) -> FixityCheck:
        """Re-hash one object, record the check, and raise the alarm on a problem."""
        start = time.monotonic()
        actual: str | None = None
        size: int | None = None
        detail: str | None = None
        try:
            actual, size = sha256_of(self.storage, obj.storage_key)
            verdict = FixityResult.OK if actual == obj.sha256 else FixityResult.MISMATCH
            if verdict is FixityResult.MISMATCH:
                detail = f"expected {obj.sha256}, read {actual} ({size} bytes)"
        except ObjectNotFound:
            verdict, detail = FixityResult.MISSING, "the object is not in storage"
        except Exception as exc:  # noqa: BLE001 - storage unreachable: recorded, tried next run
            verdict, detail = FixityResult.ERROR, f"{type(exc).__name__}: {exc}"
        check = FixityCheck(
            storage_key=obj.storage_key, kind=obj.kind, object_id=obj.object_id,
            expected_sha256=obj.sha256, actual_sha256=actual, size=size, result=verdict,
            detail=detail, seconds=round(time.monotonic() - start, 3),
        )  # fmt: skip
        self.session.add(check)
        obj.last_checked_at = check.checked_at = utcnow()
        obj.last_result = verdict
        if verdict in (FixityResult.MISMATCH, FixityResult.MISSING):
            if not obj.damaged:
                obj.damaged = True
                self._alarm(obj, check)
        elif verdict is FixityResult.OK:
            obj.damaged = False
        self.session.flush()
        if self.on_result is not None:
            self.on_result(check)
        return check

    def damaged(self) -> list[FixityObject]:
        """Return the objects whose latest check found them changed or gone."""
        return list(
            self.session.scalars(
                select(FixityObject)
                .where(FixityObject.damaged.is_(True))
                .order_by(FixityObject.storage_key)
            )
        )

    def _alarm(self, obj: FixityObject, check: FixityCheck) -> None:
        log.error("fixity %s: %s %s: %s", check.result, obj.kind, obj.storage_key, check.detail)
        record(
            self.session, AuditAction.FIXITY_FAILED, None, ObjectType(obj.kind), obj.object_id,
            to_state=str(check.result), reason=check.detail,
            details={"storage_key": obj.storage_key, "expected_sha256": obj.sha256,
                     "actual_sha256": check.actual_sha256},
        )  # fmt: skip
        admins = list(
            self.session.scalars(
                select(User).join(UserRole).where(UserRole.role == Role.ADMIN).distinct()
            )
        )
        notice = Notice(
            recipients=admins, kind="fixity_failed", version_id=0,
            title=obj.storage_key, detail=check.detail or str(check.result),
        )  # fmt: skip
        after_commit(self.session, partial(self.notifier.send, notice))
