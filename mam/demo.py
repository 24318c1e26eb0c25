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

from mam.models import Role, Version
from mam.queue import TaskQueue
from mam.runtime import Runtime
from mam.services.ingest import IngestService
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
DEMO_PROGRAMME = "时代风采"
DEMO_TITLE = "示范片：乡村振兴在行动"


def _credentials(home: Path) -> dict[str, str]:
    """Return the demo passwords kept in ``<home>/demo-accounts.json`` (mode 600)."""
    path = home / "demo-accounts.json"
    if path.exists():
        return dict(json.loads(path.read_text()))
    creds = {name: secrets.token_urlsafe(9) for name, _, _ in DEMO_USERS}
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
        echo("demo accounts (username / password):")
        for name, display, roles in DEMO_USERS:
            echo(f"  {name:<10} {creds[name]:<20} {display} ({roles[0].value})")
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


def _grant_demo_stages(session: Session) -> None:
    """Let reviewer1 sign 初审 and reviewer2 sign 终审, unless an admin changed that."""
    from mam.services.review import ReviewService  # noqa: PLC0415

    review = ReviewService(session)
    for username, stage in (("reviewer1", "初审"), ("reviewer2", "终审")):
        user = UserService(session).by_username(username)
        if user is not None and not review.grants(user):
            review.set_grants(user, [stage])
