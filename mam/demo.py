"""Demo accounts and a generated demo clip for the embedded quick start."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mam.models import County, Role, User, Version
from mam.models.network import PointKind, Township
from mam.queue import TaskQueue
from mam.runtime import Runtime
from mam.services.ingest import IngestService
from mam.services.learners import LearnerService
from mam.services.network import NetworkService, PointData
from mam.services.users import UserService

DEMO_COUNTY = ("demo-county", "示范县")
DEMO_USERS: list[tuple[str, str, list[Role]]] = [
    ("admin", "系统管理员", [Role.ADMIN]),
    ("producer", "张编导", [Role.PRODUCER]),
    ("reviewer1", "李审片（初审）", [Role.REVIEWER]),
    ("reviewer2", "王审片（终审）", [Role.REVIEWER]),
    ("publisher", "赵发布", [Role.PUBLISHER]),
    ("county", "示范县电教中心", [Role.COUNTY]),
]
# The playback network and online learning of the demo county: a township station with two
# playback points and its account, and one learner (who signs in with a phone number).
DEMO_TOWNSHIP = "城关镇电教站"
DEMO_POINTS = [("城关村放映点", PointKind.VILLAGE), ("东街社区放映点", PointKind.COMMUNITY)]
DEMO_NETWORK_USERS: list[tuple[str, str, list[Role]]] = [
    ("township", "城关镇电教站", [Role.TOWNSHIP]),
    ("13800000000", "王学员", [Role.LEARNER]),
]
DEMO_PROGRAMME = "时代风采"
DEMO_TITLE = "示范片：乡村振兴在行动"


def _credentials(home: Path) -> dict[str, str]:
    """Return the demo passwords kept in ``<home>/demo-accounts.json`` (mode 600)."""
    path = home / "demo-accounts.json"
    creds: dict[str, str] = dict(json.loads(path.read_text())) if path.exists() else {}
    missing = [n for n, _, _ in DEMO_USERS + DEMO_NETWORK_USERS if n not in creds]
    if not missing:
        return creds
    creds.update({name: secrets.token_urlsafe(9) for name in missing})
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(creds, fh)
    return creds


def make_demo_clip(path: Path, seconds: int = 20) -> Path:
    """Generate a colour-bars clip with a tone (720p, H.264/AAC) with ffmpeg's lavfi."""
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size=1280x720:rate=25:duration={seconds}",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:sample_rate=48000:duration={seconds}",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            str(path),
        ],
        check=True,
        timeout=300,
    )
    return path


def ensure_demo(runtime: Runtime, queue: TaskQueue, echo: Callable[[str], object] = print) -> None:
    """Create missing demo accounts, print them, and ingest a demo clip into an empty library."""
    creds = _credentials(runtime.settings.home)
    with runtime.db.session(queue=queue) as session:
        users = UserService(session)
        users.ensure_county(*DEMO_COUNTY)
        for name, display, roles in DEMO_USERS:
            if users.by_username(name) is None:
                users.create(
                    name,
                    creds[name],
                    roles,
                    display_name=display,
                    county_code=DEMO_COUNTY[0] if Role.COUNTY in roles else None,
                )
        _grant_demo_stages(session)
        _ensure_demo_network(session, creds)
        echo("demo accounts (username / password):")
        for name, display, roles in DEMO_USERS + DEMO_NETWORK_USERS:
            echo(f"  {name:<12} {creds[name]:<20} {display} ({roles[0].value})")
        if session.scalar(select(func.count(Version.id))):
            return
        producer = users.by_username("producer")
        with tempfile.TemporaryDirectory() as tmp:
            clip = make_demo_clip(Path(tmp) / "demo.mp4")
            result = IngestService(session, runtime.storage).ingest_file(
                clip,
                programme=DEMO_PROGRAMME,
                title=DEMO_TITLE,
                uploader=producer,
                filename="乡村振兴 示范片.mp4",
            )
        result.version.episode.programme.producer = producer  # the producer may submit it
        echo(f"demo clip ingested as version {result.version.id}; the worker is processing it")


def _ensure_demo_network(session: Session, creds: dict[str, str]) -> None:
    """Give the demo county a township station, two points, its account and a learner."""
    county = session.scalar(select(County).where(County.code == DEMO_COUNTY[0]))
    staff = UserService(session).by_username("county")
    if county is None or staff is None:
        return
    network = NetworkService(session, staff)
    township = session.scalar(
        select(Township).where(Township.county_id == county.id, Township.name == DEMO_TOWNSHIP)
    )
    if township is None:
        township = network.add_township(county.id, DEMO_TOWNSHIP)
        for name, kind in DEMO_POINTS:
            network.add_point(township, PointData(name=name, kind=kind))
    if session.scalar(select(User.id).where(User.username == "township")) is None:
        account = network.add_township_account(
            township, username="township", password=creds["township"], display_name=DEMO_TOWNSHIP
        )
        account.must_change_password = False  # a demo account: its password is printed
    phone, name, _ = DEMO_NETWORK_USERS[1]
    if session.scalar(select(User.id).where(User.username == phone)) is None:
        LearnerService(session).create(county.id, name, phone, creds[phone], staff)


def _grant_demo_stages(session: Session) -> None:
    """Let reviewer1 sign 初审 and reviewer2 sign 终审, unless an admin changed that."""
    from mam.services.review import ReviewService  # noqa: PLC0415

    review = ReviewService(session)
    for username, stage in (("reviewer1", "初审"), ("reviewer2", "终审")):
        user = UserService(session).by_username(username)
        if user is not None and not review.grants(user):
            review.set_grants(user, [stage])
