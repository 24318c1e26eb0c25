"""Fixity: every stored original and package, when it was last re-hashed, and each check."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mam.models.core import Base, _enum, utcnow


class FixityResult(enum.StrEnum):
    OK = "ok"
    MISMATCH = "mismatch"  # the bytes changed: the object is marked damaged
    MISSING = "missing"  # the object is gone from storage
    ERROR = "error"  # storage did not answer; checked again next run


class FixityObject(Base):
    """One stored object under audit (an original or a package) and its latest verdict."""

    __tablename__ = "fixity_object"

    storage_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "original" or "package"
    object_id: Mapped[int] = mapped_column(Integer)  # asset.id or release_package.id
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    last_checked_at: Mapped[datetime | None] = mapped_column(index=True)
    last_result: Mapped[FixityResult | None] = mapped_column(_enum(FixityResult))
    damaged: Mapped[bool] = mapped_column(default=False)


class FixityCheck(Base):
    """One re-hash of a stored object (append-only)."""

    __tablename__ = "fixity_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[int] = mapped_column(Integer)
    expected_sha256: Mapped[str] = mapped_column(String(64))
    actual_sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    result: Mapped[FixityResult] = mapped_column(_enum(FixityResult))
    detail: Mapped[str | None] = mapped_column(Text)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
