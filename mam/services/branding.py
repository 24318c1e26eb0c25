"""Station logos (台标): a county's own and a release set's own, validated and stored.

A logo is a PNG with an alpha channel (checked by decoding it with Pillow, not by its
name), at most ``MAX_BYTES`` and ``MAX_SIDE`` pixels a side. It is stored under its
content hash (``branding/logos/<sha256>.png``), so replacing a logo never changes a file
a package build may be reading. The callers commit.

Which logo a release set's TV package carries (``package_logo``): the set's own, else the
county's when the set is aimed at exactly one county, else none (the profiles file's site
logo, if any, is on the broadcast rendition made at ingest already).
"""

from __future__ import annotations

import hashlib
import io

from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from mam.audit import AuditAction, ObjectType, record
from mam.errors import InvalidInput, NotAllowed
from mam.messages import branding as messages
from mam.models import County, User
from mam.models.release import ReleaseSet, ReleaseState
from storage import Storage

MAX_BYTES = 1_000_000
MAX_SIDE = 2048
MIN_SIDE = 16


def check_logo(data: bytes, filename: str) -> tuple[int, int]:
    """Return the logo's size; refuse anything but a PNG with alpha of sensible size."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1][:100] or "logo"
    if len(data) > MAX_BYTES:
        raise InvalidInput(messages.LOGO_TOO_LARGE, params={"kb": MAX_BYTES // 1000})
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, mode, size, info = image.format, image.mode, image.size, dict(image.info)
            if kind == "PNG":
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidInput(messages.LOGO_NOT_PNG, params={"file": name}) from None
    if kind != "PNG":
        raise InvalidInput(messages.LOGO_NOT_PNG, params={"file": name})
    width, height = size
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise InvalidInput(
            messages.LOGO_DIMENSIONS, params={"width": width, "height": height, "max": MAX_SIDE}
        )
    if mode not in ("RGBA", "LA", "PA") and "transparency" not in info:
        raise InvalidInput(messages.LOGO_NO_ALPHA, params={"file": name})
    return width, height


class BrandingService:
    """Set and clear the logos of counties and release sets (admins and publishers)."""

    def __init__(self, session: Session, storage: Storage) -> None:
        self.session = session
        self.storage = storage

    def _store(self, data: bytes, filename: str) -> str:
        check_logo(data, filename)
        key = f"branding/logos/{hashlib.sha256(data).hexdigest()}.png"
        self.storage.put_bytes(key, data, content_type="image/png")
        return key

    def set_county_logo(self, county: County, data: bytes, filename: str, actor: User) -> str:
        county.logo_key = self._store(data, filename)
        record(self.session, AuditAction.LOGO_SET, actor, ObjectType.COUNTY, county.id,
               details={"key": county.logo_key})  # fmt: skip
        return county.logo_key

    def set_release_logo(self, release: ReleaseSet, data: bytes, filename: str, actor: User) -> str:
        self._editable(release)
        release.logo_key = self._store(data, filename)
        record(self.session, AuditAction.LOGO_SET, actor, ObjectType.RELEASE_SET, release.id,
               details={"key": release.logo_key})  # fmt: skip
        return release.logo_key

    def clear_county_logo(self, county: County, actor: User) -> None:
        if county.logo_key:
            county.logo_key = None
            record(self.session, AuditAction.LOGO_CLEARED, actor, ObjectType.COUNTY, county.id)

    def clear_release_logo(self, release: ReleaseSet, actor: User) -> None:
        self._editable(release)
        if release.logo_key:
            release.logo_key = None
            record(self.session, AuditAction.LOGO_CLEARED, actor, ObjectType.RELEASE_SET,
                   release.id)  # fmt: skip

    def _editable(self, release: ReleaseSet) -> None:
        if release.state != ReleaseState.DRAFT:
            raise NotAllowed(messages.LOGO_RELEASE_FROZEN, params={"name": release.name})


def package_logo(release: ReleaseSet) -> str | None:
    """Return the storage key of the logo the set's TV package carries (None: no override)."""
    if release.logo_key:
        return release.logo_key
    counties = [] if release.all_counties else [t.county for t in release.targets]
    if len(counties) == 1 and counties[0].logo_key:
        return counties[0].logo_key
    return None
