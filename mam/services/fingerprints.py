"""Cheap fingerprints of originals: the size and the SHA-256 of the first and last 4 MiB.

The upload page computes the same fingerprint in the browser (WebCrypto) and sends it
when it creates an upload, so a file already in the library is refused in seconds instead
of after its gigabytes have been sent. A fingerprint match is strong evidence, not proof:
the full SHA-256, computed as the bytes arrive, stays the final word, and the page lets the
producer send a file anyway when they know it differs in the middle.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.errors import Duplicate, InvalidInput
from mam.i18n import N_
from mam.models import Asset, Version
from storage import Storage, StorageError

log = logging.getLogger(__name__)

SAMPLE = 4 << 20  # bytes hashed at each end; upload.js uses the same figure
_FORMAT = re.compile(r"([1-9][0-9]{0,18}):([0-9a-f]{64}):([0-9a-f]{64})")


def fingerprint(size: int, head: bytes, tail: bytes) -> str:
    """Return the fingerprint of a file of ``size`` bytes from its first and last bytes."""
    return f"{size}:{hashlib.sha256(head).hexdigest()}:{hashlib.sha256(tail).hexdigest()}"


def file_fingerprint(path: str | os.PathLike[str]) -> str:
    """Return the fingerprint of a local file (reads at most 2 × SAMPLE bytes)."""
    with Path(path).open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(min(size, SAMPLE))
        fh.seek(max(0, size - SAMPLE))
        tail = fh.read()
    return fingerprint(size, head, tail)


def stored_fingerprint(storage: Storage, key: str, size: int) -> str:
    """Return the fingerprint of a stored object of ``size`` bytes (two range reads)."""
    if size < 1:
        return fingerprint(0, b"", b"")
    head = b"".join(storage.iter_range(key, 0, min(size, SAMPLE) - 1))
    tail = b"".join(storage.iter_range(key, max(0, size - SAMPLE), size - 1))
    return fingerprint(size, head, tail)


def parse(text: str, length: int) -> str | None:
    """Return a fingerprint sent by a client for a file of ``length`` bytes, checked.

    A well-formed fingerprint of another size cannot describe this file: it is ignored
    (None), and the full SHA-256 at the end decides.
    """
    match = _FORMAT.fullmatch(text.strip().lower())
    if match is not None and int(match.group(1)) != length:
        return None
    if match is None:
        raise InvalidInput(
            N_("The file fingerprint %(value)s is not “size:sha256:sha256” for this file"),
            params={"value": repr(text[:40])},
            field="fingerprint",
        )
    return match.group(0)


class FingerprintIndex:
    """Find the version whose original has a given fingerprint."""

    def __init__(self, session: Session, storage: Storage) -> None:
        self.session = session
        self.storage = storage

    def find(self, value: str) -> Version | None:
        """Return the version of the original with fingerprint ``value``, or None.

        Only originals of exactly that size are looked at; one stored before fingerprints
        existed gets its fingerprint now, read from storage, and keeps it.
        """
        size = int(value.split(":", 1)[0])
        assets = self.session.scalars(select(Asset).where(Asset.size == size)).all()
        filled = False
        found = None
        for asset in assets:
            if asset.fingerprint is None:
                try:
                    asset.fingerprint = stored_fingerprint(self.storage, asset.storage_key, size)
                except (StorageError, ValueError):
                    log.exception("could not fingerprint asset %s", asset.id)
                    continue
                filled = True
            if asset.fingerprint == value:
                found = self.session.scalar(select(Version).where(Version.asset_id == asset.id))
                break
        if filled:
            self.session.flush()
        return found

    def refuse(self, value: str, filename: str) -> None:
        """Raise Duplicate if an original with fingerprint ``value`` is in the library."""
        existing = self.find(value)
        if existing is None:
            return
        episode = existing.episode
        raise Duplicate(
            N_(
                "%(filename)s is identical to 《%(programme)s》 %(title)s, version %(number)s, "
                "which is already in the library (same size, same beginning and end); "
                "it was not uploaded."
            ),
            params={
                "filename": filename,
                "programme": episode.programme.name,
                "title": episode.title,
                "number": existing.number,
            },
            version_id=existing.id,
            episode_id=episode.id,
            number=existing.number,
            match="fingerprint",
        )
