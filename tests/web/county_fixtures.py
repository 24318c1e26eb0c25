"""County fixtures: a published set with a ready package of known bytes, on either backend."""

from __future__ import annotations

import base64
import hashlib
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from mam import migrate
from mam.models import Rendition, Role, VersionState, utcnow
from mam.models.release import Download, PackageKind, PackageState, ReleasePackage
from mam.runtime import Runtime, build_runtime
from mam.services.coverage import CoverageReports
from mam.services.releases import ReleaseService
from mam.services.tokens import TokenService
from mam.services.users import UserService
from tests import factories
from tests.conftest import make_settings
from web import create_app

PASSWORD = "correct horse battery"
# A real 32x18 JPEG (made with ffmpeg's lavfi colour source), the episode's poster.
POSTER = base64.b64decode(
    "/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgQEBMQExYWFhYWFhoYGhsbGxoaGhob"
    "GxsdHR0iIiIdHR0bGx0dICAiIiUmJSMjIiMmJigoKDAwLi44ODpFRVP/xABNAAEBAAAAAAAAAAAAAAAAAAAABgEB"
    "AQEAAAAAAAAAAAAAAAAAAAUGEAEAAAAAAAAAAAAAAAAAAAAAEQEAAAAAAAAAAAAAAAAAAAAA/8AAEQgAEgAgAwEi"
    "AAIRAAMRAP/aAAwDAQACEQMRAD8AnQGqQAAAAAAH/9k="
)


@dataclass
class CountyWorld:
    """A published release set for county c1 with one ready ``tv`` package."""

    runtime: Runtime
    app: Flask
    release: int
    package: int
    version: int
    data: bytes

    @property
    def url(self) -> str:
        return f"/county/packages/{self.package}/download"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def token(
        self,
        username: str = "county",
        scopes: tuple[str, ...] = ("county:download",),
        days: int | None = None,
    ) -> dict[str, str]:
        """Return an Authorization header with a fresh token of ``username``."""
        with self.runtime.db.session() as s:
            user = UserService(s).by_username(username)
            assert user is not None
            secret, _row = TokenService(s).issue(
                user, "script", scopes=scopes, expires_in_days=days
            )
        return {"Authorization": f"Bearer {secret}"}

    def downloads(self) -> list[tuple[int, int, bool]]:
        """Return (start, bytes, completed) of every logged transfer, oldest first."""
        with self.runtime.db.session() as s:
            rows = s.scalars(select(Download).order_by(Download.id)).all()
            return [(r.range_start, r.bytes_sent, r.completed) for r in rows]

    def wait_downloads(self, count: int, timeout: float = 20) -> list[tuple[int, int, bool]]:
        """Wait until ``count`` transfers are logged (a live server logs after the body)."""
        deadline = time.monotonic() + timeout
        rows = self.downloads()
        while len(rows) < count and time.monotonic() < deadline:
            time.sleep(0.05)
            rows = self.downloads()
        return rows

    def downloaded(self) -> bool:
        """Return what the publisher's coverage table says for county c1."""
        with self.runtime.db.session() as s:
            svc = CoverageReports(s)
            rows = {c.county.code: c for c in svc.coverage(svc.get(self.release))}
            return rows["c1"].downloaded


def build_world(rt: Runtime, size: int, *, seed: int = 7) -> CountyWorld:
    """Create counties, users, a published set for c1 and a ready package of ``size`` bytes."""
    data = random.Random(seed).randbytes(size)  # noqa: S311 - test bytes
    with rt.db.session() as s:
        users = UserService(s)
        c1 = users.ensure_county("c1", "甲县")
        users.ensure_county("c2", "乙县")
        publisher = users.create("publisher", PASSWORD, [Role.PUBLISHER], display_name="赵发布")
        users.create("producer", PASSWORD, [Role.PRODUCER], display_name="张编导")
        for name, code, shown in (
            ("county", "c1", "甲县电教中心"),
            ("county2", "c2", "乙县电教中心"),
        ):
            users.create(name, PASSWORD, [Role.COUNTY], county_code=code, display_name=shown)
        v = factories.version(s, VersionState.APPROVED, title="乡村振兴 第1集")
        v.episode.synopsis = "讲述村里发展特色种植的故事。"
        v.asset.media_info = {"duration": 125.4}
        poster_key = f"thumbs/{v.id}/poster.jpg"
        rt.storage.put_bytes(poster_key, POSTER, content_type="image/jpeg")
        v.renditions.append(
            Rendition(
                profile="poster", storage_key=poster_key, mime_type="image/jpeg", size=len(POSTER)
            )
        )
        s.flush()
        svc = ReleaseService(s)
        release = svc.create("2026年第12期", publisher, notes="十二月供片")
        svc.add_version(release, v.id, publisher)
        svc.set_targets(release, [c1.id], publisher)
        packages = svc.publish(release, publisher)
        tv = next(p for p in packages if p.kind == PackageKind.TV)
        key = f"packages/{release.id}/tv.zip"
        rt.storage.put_bytes(key, data, content_type="application/zip")
        tv.storage_key, tv.size, tv.sha256 = key, len(data), hashlib.sha256(data).hexdigest()
        tv.state, tv.built_at, tv.progress = PackageState.READY, utcnow(), 1.0
        s.commit()
        ids = (release.id, tv.id, v.id)
    app = create_app({"TESTING": True}, runtime=rt)
    return CountyWorld(rt, app, ids[0], ids[1], ids[2], data)


@pytest.fixture
def county_s3_runtime(home: Path, moto_endpoint: str) -> Iterator[Runtime]:
    """SQLite with S3 storage on the moto server (a fresh bucket)."""
    settings = make_settings(
        home,
        storage_backend="s3",
        s3_bucket=f"county-{uuid.uuid4().hex[:8]}",
        s3_endpoint_url=moto_endpoint,
        s3_create_bucket=True,
    )
    migrate.upgrade(settings.database_url)
    rt = build_runtime(settings)
    yield rt
    rt.close()


@pytest.fixture(params=["local", "s3"])
def backend_runtime(request: pytest.FixtureRequest) -> Runtime:
    """The embedded default (local storage) and S3 storage, one test run each."""
    name = "runtime" if request.param == "local" else "county_s3_runtime"
    rt: Runtime = request.getfixturevalue(name)
    return rt


@pytest.fixture
def world(backend_runtime: Runtime) -> CountyWorld:
    """A small package (300 kB) on each backend."""
    return build_world(backend_runtime, 300_000)


def package_row(rt: Runtime, package_id: int) -> ReleasePackage:
    with rt.db.session() as s:
        return s.get_one(ReleasePackage, package_id)
