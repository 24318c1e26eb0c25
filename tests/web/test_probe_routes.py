"""Walk every route in the URL map as every role with real, missing, huge and odd inputs.

Routes come from ``app.url_map`` (a new blueprint is probed without touching this file);
form, query and JSON field names from the templates' ``name="..."`` attributes and the
OpenAPI document. A request passes if it answers anything but a 5xx and raises nothing.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

import web
from mam.config import Settings
from mam.models import County, JobKind, JobState, Role, User, Version
from mam.models.core import Job, Rendition
from mam.models.network import (
    CopyMedium,
    FilmCopy,
    Focus,
    Organisation,
    Plan,
    PlanEntry,
    PlaybackPoint,
    PointKind,
    Township,
)
from mam.models.release import (
    PackageKind,
    Receipt,
    ReleaseItem,
    ReleasePackage,
    ReleaseSet,
    ReleaseState,
    Screening,
)
from mam.runtime import Runtime
from mam.services import metadata
from mam.services.comments import CommentService
from mam.services.releases import ReleaseService
from mam.services.tokens import TokenService
from mam.services.users import UserService
from tests.conftest import make_settings
from tests.web.conftest import PASSWORD, csrf_from
from tests.web.test_metadata import make_episode
from tests.web.test_upload import create, token_for

ROLES = ("anonymous", "admin", "producer", "reviewer", "publisher", "county", "township", "learner")
HUGE = str(2**70)
MISSING = "999999"
ODD = ("²", "١٢")  # str.isdigit() is true for both; int() refuses one and misreads the other
TEMPLATES = Path(web.__file__).with_name("templates")
# Values that let a view run its real path; every other field gets "1".
REAL_FIELDS = {
    "name": "探针 2026年第1期",
    "title": "探针片名",
    "notes": "探针备注",
    "reason": "探针原因",
    "body": "探针评论",
    "place": "城关镇",
    "synopsis": "探针简介",
    "start_tc": "00:00:00:00",
    "end_tc": "00:00:00:05",
    "publish_date": "2026-12-01",
    "screened_on": "2026-11-01",
    "production_date": "2024-05-01",
    "rights_expiry": "2030-01-01",
    "source": "self",
    "language": "zh",
    "state": "ready",
    "q": "探针",
    "code": "probe1",
    "username": "probe-user",
    "password": "probe password long enough",
    "roles": "producer",
    "stages": "1",
    "active": "1",
    "email": "probe@example.org",
    "sha256": "0" * 64,
    "length": "10",
    "filename": "probe.mp4",
    "since": "2026-01-01",
    "until": "2027-01-01",
    "action": "add",
    "topics": "党的建设",
    "keywords": "探针",
    "month": "2026-12",
    "planned_on": "2026-12-05",
    "planned_time": "19:30",
    "screened_time": "19:30",
    "starts_on": "2026-12-01",
    "ends_on": "2026-12-31",
    "moved_on": "2026-11-30",
    "kind": "village",
    "medium": "usb",
    "outcome": "held",
    "label": "探针U盘",
}


@pytest.fixture
def settings(home: Path, database_url: str) -> Settings:
    """The probe runs on SQLite and on PostgreSQL (whose integers overflow differently)."""
    return make_settings(home, database_url=database_url)


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


class AnyQueue:
    """Records whatever the views enqueue (no broker in this test)."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: f"{name}-task"


def _field_names(
    runtime: Runtime, client: FlaskClient
) -> tuple[set[str], dict[str, set[str]]]:
    """Form/query names from the templates and the OpenAPI document; JSON bodies per path."""
    names = set(re.findall(r'name="([a-z_]+)"', _templates_text()))
    auth = token_for(runtime, "admin")
    spec = client.get("/api/v1/openapi.json", headers=auth).get_json()
    assert spec["paths"], spec
    bodies: dict[str, set[str]] = {}

    def props(schema: dict[str, Any]) -> set[str]:
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        return set(schema.get("properties", {}))

    for path, ops in spec.get("paths", {}).items():
        for method, op in ops.items():
            if not isinstance(op, dict):
                continue
            for param in op.get("parameters", []):
                if param.get("in") == "query":
                    names.add(param["name"])
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                fields = props(body["schema"])
                names |= fields
                bodies[f"{method.upper()} {path}"] = fields
    names.discard("csrf_token")
    return names, bodies


def _templates_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in TEMPLATES.rglob("*.html"))


def _seed(runtime: Runtime, app: Flask, client: FlaskClient) -> dict[str, str]:
    """One real row of everything a route can name; return real path values by argument."""
    episode_id = make_episode(runtime, "探针用的片子")
    with runtime.db.session() as s:
        users = {u.username: u for u in s.scalars(select(User))}
        episode = metadata.episode_or_404(s, episode_id)
        version = episode.versions[0]
        rendition = Rendition(
            version_id=version.id,
            profile="proxy",
            storage_key=f"renditions/{version.id}/proxy/proxy.mp4",
            mime_type="video/mp4",
            size=10,
        )
        s.add(rendition)
        job = Job(version_id=version.id, kind=next(iter(JobKind)), state=JobState.FAILED)
        s.add(job)
        comment = CommentService(s).add(version.id, users["reviewer"], "探针", start_frame=0)
        target = UserService(s).create("probe-target", PASSWORD, [Role.PRODUCER])
        release = ReleaseService(s).create("探针批次", users["publisher"])
        package = ReleasePackage(release_id=release.id, kind=PackageKind.TV)
        s.add(package)
        _, token = TokenService(s).issue(users["admin"], "probe")
        s.flush()
        real = {
            "episode_id": episode_id,
            "version_id": version.id,
            "rendition_id": rendition.id,
            "job_id": job.id,
            "comment_id": comment.id,
            "user_id": target.id,
            "release_id": release.id,
            "package_id": package.id,
            "item_id": 1,
            "county_id": s.scalar(select(County.id).where(County.code == "c1")),
            "programme_id": episode.programme_id,
            "token_id": token.id,
            "topic_id": metadata.ensure_topics(s)[0].id,
            "subtitle_id": 1,
            **_seed_network(s, users["township"], version),
        }
        s.commit()
    upload_id = create(client, token_for(runtime, "producer"), 10)
    return {
        **{k: str(v) for k, v in real.items()},
        "upload_id": upload_id,
        "code": "en",
        "name": "0001.jpg",
        "filename": "app.css",
        "fmt": "xlsx",
    }


def _seed_network(s: Session, township_user: User, version: Version) -> dict[str, int]:
    """A received film, a point, an organisation, a plan entry, a report, a copy, a focus."""
    township = s.get(Township, township_user.township_id)
    assert township is not None
    release = ReleaseSet(name="探针供片", state=ReleaseState.PUBLISHED, all_counties=True)
    release.items.append(ReleaseItem(episode_id=version.episode_id, version_id=version.id))
    s.add(release)
    s.flush()
    s.add(Receipt(release_id=release.id, county_id=township.county_id))
    org = Organisation(township_id=township.id, name="探针村", kind=PointKind.VILLAGE)
    s.add(org)
    s.flush()
    point = PlaybackPoint(
        township_id=township.id, name="探针点", kind=PointKind.VILLAGE, organisation_id=org.id
    )
    plan = Plan(township_id=township.id, month=date.today().replace(day=1))
    s.add_all([point, plan])
    s.flush()
    entry = PlanEntry(
        plan_id=plan.id, release_id=release.id, episode_id=version.episode_id,
        point_id=point.id, planned_on=plan.month,
    )  # fmt: skip
    copy = FilmCopy(
        township_id=township.id, release_id=release.id, medium=CopyMedium.USB, label="U1"
    )
    focus = Focus(
        county_id=township.county_id, starts_on=plan.month, ends_on=plan.month, title="探针重点"
    )
    s.add_all([entry, copy, focus])
    s.flush()
    report = Screening(
        release_id=release.id, county_id=township.county_id, township_id=township.id,
        point_id=point.id, episode_id=version.episode_id, plan_entry_id=entry.id,
        screened_on=plan.month, place=point.name, viewers=3,
    )  # fmt: skip
    s.add(report)
    s.flush()
    return {
        "township_id": township.id,
        "point_id": point.id,
        "organisation_id": org.id,
        "plan_id": plan.id,
        "entry_id": entry.id,
        "focus_id": focus.id,
        "copy_id": copy.id,
        "screening_id": report.id,
    }


def _clients(app: Flask) -> dict[str, tuple[FlaskClient, str]]:
    """A signed-in client and its CSRF token per role (anonymous: the login page's token)."""
    out = {}
    for role in ROLES:
        client = app.test_client()
        if role == "anonymous":
            out[role] = (client, csrf_from(client.get("/login").get_data(as_text=True)))
            continue
        token = csrf_from(client.get("/login").get_data(as_text=True))
        form = {"username": role, "password": PASSWORD, "csrf_token": token}
        r = client.post("/login", data=form)
        assert r.status_code == 302, role
        out[role] = (client, csrf_from(client.get("/account").get_data(as_text=True)))
    return out


def _inputs(rule: Rule, real: dict[str, str]) -> Iterator[tuple[str, dict[str, str], str]]:
    """Yield (input name, path values, parameter value) for a rule."""
    args = sorted(rule.arguments)
    yield "real", {a: real.get(a, "1") for a in args}, "real"
    if args:
        yield "missing", {a: MISSING if a.endswith("_id") else "missing" for a in args}, "real"
        for odd in (HUGE, *ODD):
            yield f"path {odd[:4]}", dict.fromkeys(args, odd), "real"
    for odd in (MISSING, HUGE, *ODD):
        yield f"param {odd[:4]}", {a: real.get(a, "1") for a in args}, odd


def _request(
    client: FlaskClient,
    csrf: str,
    method: str,
    url: str,
    value: str,
    names: set[str],
    json_fields: set[str] | None,
) -> int:
    def val(name: str) -> str:
        return REAL_FIELDS.get(name, "1") if value == "real" else value

    query = urlencode({n: val(n) for n in sorted(names)})
    headers = {
        "X-CSRFToken": csrf,
        "Tus-Resumable": "1.0.0",
        "Upload-Length": "10" if value == "real" else value,
        "Upload-Offset": "0" if value == "real" else value,
        "Range": "bytes=0-9" if value == "real" else f"bytes={value}-",
    }
    kwargs: dict[str, Any] = {"headers": headers}
    if method in ("GET", "HEAD", "OPTIONS", "DELETE"):
        url = f"{url}?{query}"
    elif json_fields is not None:
        kwargs["json"] = {n: val(n) for n in json_fields}
    elif method == "PATCH" and "/upload/files/" in url:
        headers["Content-Type"] = "application/offset+octet-stream"
        kwargs["data"] = b"0123456789"
    else:
        kwargs["data"] = {"csrf_token": csrf, **{n: val(n) for n in sorted(names)}}
    with client.open(url, method=method, **kwargs) as response:
        return response.status_code


def _last(rule: Rule) -> bool:
    return rule.endpoint in ("auth.logout", "i18n.set_language")


@pytest.mark.slow
def test_no_route_answers_5xx(app: Flask, runtime: Runtime, capsys: pytest.CaptureFixture) -> None:
    app.extensions["mam_queue"] = AnyQueue()
    setup = app.test_client()
    real = _seed(runtime, app, setup)
    names, bodies = _field_names(runtime, setup)
    clients = _clients(app)
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (_last(r), r.rule))
    tally = Tally()
    started = time.monotonic()
    inputs_seen: set[str] = set()
    for role in ROLES:
        client, csrf = clients[role]
        for rule in rules:
            for method in sorted(rule.methods or ()):
                if method == "HEAD" and "GET" in (rule.methods or ()):
                    continue  # Flask answers HEAD with the GET view
                for label, path_values, value in _inputs(rule, real):
                    inputs_seen.add(label)
                    url = rule.rule
                    for arg, v in path_values.items():
                        url = re.sub(rf"<(?:[a-z]+(?:\([^)]*\))?:)?{arg}>", v, url)
                    api_path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
                    json_fields = bodies.get(f"{method} {api_path}")
                    tally.requests += 1
                    try:
                        status = _request(client, csrf, method, url, value, names, json_fields)
                    except Exception as exc:  # noqa: BLE001 - every crash is a finding
                        tally.failures.append(f"{role} {method} {url} [{label}]: {exc!r}"[:300])
                        continue
                    tally.statuses[f"{status // 100}xx"] += 1
                    if status >= 500:
                        tally.failures.append(f"{role} {method} {url} [{label}]: {status}")
    seconds = time.monotonic() - started
    with capsys.disabled():
        print(  # noqa: T201 - the probe's tally is the test's report
            f"\nroute probe: {len(rules)} routes x {len(ROLES)} roles x {len(inputs_seen)} inputs"
            f" = {tally.requests} requests in {seconds:.0f} s; statuses "
            f"{dict(sorted(tally.statuses.items()))}; failures {len(tally.failures)}"
        )
    assert not tally.failures, "\n".join(tally.failures[:60])
