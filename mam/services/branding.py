"""Station logos (台标): a county's own and a release set's own, validated and stored.

A logo is a PNG with an alpha channel (checked by decoding it with Pillow, not by its
name), at most ``MAX_BYTES`` and ``MAX_SIDE`` pixels a side. It is stored under its
content hash (``branding/logos/<sha256>.png``), so replacing a logo never changes a file
a package build may be reading. The callers commit.

Which TV packages a published set gets (``tv_audiences``) and which logo each carries
(``package_logo``): a set with its own logo gets one TV package, with that logo, for every
county. Otherwise every target county with its own logo gets a TV package of its own,
rendered with its logo, and the counties without one share a package with the site's
branding (the profiles file's site logo, if any, is on the broadcast rendition made at
ingest already). The audiences are fixed when the set is published: a county that sets
its logo later downloads the shared package of sets published before.
"""

from __future__ import annotations

import hashlib
import io

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
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


def package_logo(release: ReleaseSet, county: County | None = None) -> str | None:
    """Return the storage key of the logo the TV package of ``county`` (None: the shared
    package) carries; None: no override (the site's branding)."""
    if release.logo_key:
        return release.logo_key
    return county.logo_key if county is not None else None


def tv_audiences(session: Session, release: ReleaseSet) -> list[County | None]:
    """Return who gets a TV package of their own: None is the shared package (the counties
    without a logo of their own, and every county if the set has its own logo), a county
    its own package with its logo."""
    if release.logo_key:
        return [None]
    if release.all_counties:
        counties = list(session.scalars(select(County).order_by(County.code)))
    else:
        counties = sorted((t.county for t in release.targets), key=lambda c: c.code)
    own: list[County | None] = [c for c in counties if c.logo_key]
    shared: list[County | None] = [None] if release.all_counties or len(own) < len(counties) else []
    return shared + own
