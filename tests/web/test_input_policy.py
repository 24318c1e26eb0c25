"""Issue #11: what the outside probe found, one test per report, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from mam.config import Settings
from mam.models import County, Episode, Programme, VersionState
from mam.models.catalogue import Topic
from mam.models.core import utcnow
from mam.models.release import ReleaseSet, ReleaseState, ReleaseTarget
from mam.runtime import Runtime
from tests import factories
from tests.conftest import make_settings
from tests.web.conftest import csrf_from
from tests.web.test_metadata import make_episode
from tests.web.test_upload import RecordingQueue, create, token_for

HUGE = str(2**70)
SUPERSCRIPT_TWO = "²"  # str.isdigit() says yes, int() says no


@pytest.fixture
def settings(home: Path, database_url: str) -> Settings:
    """Every test here runs on SQLite and on PostgreSQL (where big ids overflow loudly)."""
    return make_settings(home, database_url=database_url)


def token(client: FlaskClient) -> str:
    return csrf_from(client.get("/account").get_data(as_text=True))


EN = {"Accept-Language": "en"}


def _legacy_release(runtime: Runtime, name: str, notes: str, county: str = "c1") -> int:
    """A published set written before names were checked (straight into the table)."""
    with runtime.db.session() as s:
        release = ReleaseSet(
            name=name, notes=notes, state=ReleaseState.PUBLISHED, published_at=utcnow()
        )
        s.add(release)
        s.flush()
        county_id = s.scalar(select(County.id).where(County.code == county))
        s.add(ReleaseTarget(release_id=release.id, county_id=county_id))
        s.commit()
        return release.id


# ---- control characters -------------------------------------------------------------------


def test_metadata_form_refuses_control_characters(
    client: FlaskClient, runtime: Runtime, login: Callable[[str], FlaskClient]
) -> None:
    episode_id = make_episode(runtime, "田间课堂")
    login("producer")
    r = client.post(
        f"/episodes/{episode_id}/metadata",
        data={"csrf_token": token(client), "title": "田间\x00课堂", "synopsis": "讲\x00农业"},
        follow_redirects=True,
    )
    assert r.status_code == 200
    assert "未保存" in r.get_data(as_text=True)  # "Not saved: ..." in the user's language
    with runtime.db.session() as s:
        episode = s.get_one(Episode, episode_id)
        assert episode.title == "田间课堂" and "\x00" not in (episode.synopsis or "")


def test_release_set_name_with_nul_is_refused(
    client: FlaskClient, runtime: Runtime, login: Callable[[str], FlaskClient]
) -> None:
    login("publisher")
    r = client.post(
        "/releases/",
        data={"csrf_token": token(client), "name": "2026年\x00第12期", "notes": ""},
    )
    assert r.status_code == 400
    assert "控制字符" in r.get_data(as_text=True)
    with runtime.db.session() as s:
        assert s.scalar(select(ReleaseSet.id)) is None


def test_county_and_topic_names_with_control_characters_are_refused(
    client: FlaskClient, runtime: Runtime, login: Callable[[str], FlaskClient]
) -> None:
    login("admin")
    csrf = token(client)
    r = client.post("/admin/counties", data={"csrf_token": csrf, "code": "c9", "name": "丙\x00县"})
    assert r.status_code == 400
    r = client.post("/topics", data={"csrf_token": csrf, "action": "add", "name": "党\x07建"})
    assert r.status_code == 302
    with runtime.db.session() as s:
        assert s.scalar(select(County.id).where(County.code == "c9")) is None
        assert s.scalar(select(Topic.id).where(Topic.name.like("党%建"))) is None


def test_atom_feed_is_well_formed_even_with_old_control_characters(
    client: FlaskClient, runtime: Runtime, login: Callable[[str], FlaskClient]
) -> None:
    # NUL on SQLite; PostgreSQL never stored NUL, but other C0 controls break XML just as well
    nul = "\x00" if runtime.settings.database_url.startswith("sqlite") else "\x01"
    _legacy_release(runtime, f"2026年{nul}第1期", "第一\x0b批 <b>&")
    login("county")
    r = client.get("/county/feed.atom")
    assert r.status_code == 200 and r.mimetype == "application/atom+xml"
    feed = ET.fromstring(r.data)  # raised "not well-formed" before
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entry = feed.find("a:entry", ns)
    assert entry is not None
    assert entry.findtext("a:title", namespaces=ns) == "2026年\ufffd第1期"
    assert entry.findtext("a:summary", namespaces=ns) == "第一\ufffd批 <b>&"


# ---- numbers: non-ASCII digits and ids beyond 64 bits ---------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"/search?page={SUPERSCRIPT_TWO}",
        f"/search?programme={SUPERSCRIPT_TWO}",
        f"/search?topic={SUPERSCRIPT_TWO}",
        f"/search?year={SUPERSCRIPT_TWO}",
        f"/search?page={HUGE}",
        f"/api/v1/episodes?page={SUPERSCRIPT_TWO}",
        f"/api/v1/episodes?per_page={SUPERSCRIPT_TWO}",
        f"/api/v1/episodes?programme={SUPERSCRIPT_TWO}",
        f"/api/v1/episodes?topic={SUPERSCRIPT_TWO}",
        f"/api/v1/episodes?year={SUPERSCRIPT_TWO}",
        f"/api/v1/episodes?page={HUGE}",
        f"/api/v1/episodes?programme={HUGE}",
        f"/admin/audit?object_id={SUPERSCRIPT_TWO}",
        f"/admin/audit?object_id={HUGE}",
        f"/admin/audit?page={HUGE}",
        "/api/v1/jobs?state=bogus",
    ],
)
def test_bad_numbers_in_queries_are_400(
    client: FlaskClient, login: Callable[[str], FlaskClient], url: str
) -> None:
    login("admin")
    r = client.get(url, headers=EN)
    assert r.status_code == 400, (url, r.status_code)
    text = r.get_data(as_text=True)
    assert "must be" in text  # says what is wrong with which parameter


def test_unknown_job_state_lists_the_allowed_values(
    client: FlaskClient, login: Callable[[str], FlaskClient]
) -> None:
    login("admin")
    r = client.get("/api/v1/jobs?state=bogus", headers=EN)
    assert r.status_code == 400
    assert r.json["allowed"] == [
        "queued", "running", "succeeded", "skipped", "failed", "waiting"
    ]
    assert "queued, running, succeeded, skipped, failed" in r.json["error"]


@pytest.mark.parametrize(
    "url",
    [
        f"/episodes/{HUGE}",
        f"/api/v1/versions/{HUGE}",
        f"/api/v1/episodes/{HUGE}",
        f"/review/versions/{HUGE}",
        f"/releases/{HUGE}",
        f"/media/renditions/{HUGE}",
        f"/subtitles/{HUGE}.vtt",
    ],
)
def test_ids_beyond_64_bits_or_not_ascii_are_404(
    client: FlaskClient, login: Callable[[str], FlaskClient], url: str
) -> None:
    login("admin")
    assert client.get(url).status_code == 404


def test_out_of_range_id_is_404_for_every_method(client: FlaskClient, runtime: Runtime) -> None:
    auth = token_for(runtime, "producer")
    for ident in (str(2**63), HUGE):  # 19 digits just past the bound, and far past it
        r = client.patch(f"/api/v1/episodes/{ident}", json={"synopsis": "x"}, headers=auth)
        assert r.status_code == 404, (ident, r.status_code)  # Werkzeug alone said 405


def test_api_bodies_of_the_wrong_type_are_400(client: FlaskClient, runtime: Runtime) -> None:
    episode_id = make_episode(runtime, "田间课堂")
    auth = token_for(runtime, "producer")
    for body in ({"number": "x"}, {"synopsis": 5}, {"rights_expiry": ""}, {"topics": "a"}):
        r = client.patch(f"/api/v1/episodes/{episode_id}", json=body, headers=auth)
        assert r.status_code == 400, body
        assert set(r.json["fields"]) == set(body), r.json


def test_ids_in_other_digits_name_no_row(
    client: FlaskClient, runtime: Runtime, login: Callable[[str], FlaskClient]
) -> None:
    episode_id = make_episode(runtime, "田间课堂")
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in str(episode_id))  # "١" for 1
    login("admin")
    assert client.get(f"/episodes/{episode_id}").status_code == 200
    assert client.get(f"/episodes/{arabic_indic}").status_code == 404


def test_tus_headers_with_non_ascii_digits_are_400(
    client: FlaskClient, runtime: Runtime, app: object
) -> None:
    app.extensions["mam_queue"] = RecordingQueue()  # type: ignore[attr-defined]
    auth = token_for(runtime, "producer")
    r = client.post("/upload/files", headers={**auth, "Upload-Length": SUPERSCRIPT_TWO})
    assert r.status_code == 400
    r = client.post("/upload/files", headers={**auth, "Upload-Length": HUGE})
    assert r.status_code in (400, 413)
    upload_id = create(client, auth, 10)
    r = client.patch(
        f"/upload/files/{upload_id}",
        data=b"0123456789",
        headers={
            **auth,
            "Upload-Offset": SUPERSCRIPT_TWO,
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert r.status_code == 400


def test_review_form_numbers_with_non_ascii_digits_are_400(
    client: FlaskClient, runtime: Runtime, login: Callable[[str], FlaskClient]
) -> None:
    with runtime.db.session() as s:
        vid = factories.version(s, VersionState.READY).id
        s.commit()
    login("admin")
    csrf = token(client)
    for action, field in [("submit", "lock_version"), ("sign", "stage_id")]:
        r = client.post(
            f"/review/versions/{vid}/{action}", data={"csrf_token": csrf, field: SUPERSCRIPT_TWO}
        )
        assert r.status_code in (400, 403), (action, r.status_code)
    r = client.post(
        f"/review/versions/{vid}/comments",
        json={"body": "好", "start_tc": "00:00:00:00", "parent_id": SUPERSCRIPT_TWO},
        headers={"X-CSRFToken": csrf},
    )
    assert r.status_code == 400


def test_id_lists_and_episode_number_with_non_ascii_digits(
    client: FlaskClient, runtime: Runtime, login: Callable[[str], FlaskClient]
) -> None:
    episode_id = make_episode(runtime, "果树栽培")
    login("admin")
    csrf = token(client)
    r = client.post(
        "/admin/programmes",
        data={"csrf_token": csrf, "name": "新栏目", "editors": SUPERSCRIPT_TWO},
    )
    assert r.status_code == 302
    r = client.post("/releases/", data={"csrf_token": csrf, "name": "2026年第1期"})
    assert r.status_code == 302
    release = r.location.rstrip("/").rsplit("/", 1)[-1]
    r = client.post(
        f"/releases/{release}/targets", data={"csrf_token": csrf, "county": SUPERSCRIPT_TWO}
    )
    assert r.status_code == 302
    r = client.post(
        f"/episodes/{episode_id}/metadata",
        data={"csrf_token": csrf, "number": SUPERSCRIPT_TWO},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "未保存" in r.get_data(as_text=True)
    with runtime.db.session() as s:
        assert s.scalar(select(Programme.id).where(Programme.name == "新栏目")) is not None
        assert s.get_one(Episode, episode_id).number is None


# ---- unique names, lone surrogates ---------------------------------------------------------


def test_renaming_to_a_title_the_programme_has_is_409(
    client: FlaskClient, runtime: Runtime, login: Callable[[str], FlaskClient]
) -> None:
    make_episode(runtime, "第一集")
    second = make_episode(runtime, "第二集")
    auth = token_for(runtime, "producer")
    r = client.patch(f"/api/v1/episodes/{second}", json={"title": "第一集"}, headers=auth)
    assert r.status_code == 409
    assert "第一集" in r.json["error"] and "已有" in r.json["error"]
    login("producer")
    r = client.post(
        f"/episodes/{second}/metadata",
        data={"csrf_token": token(client), "title": "第一集"},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "已有" in r.get_data(as_text=True)
    with runtime.db.session() as s:
        assert s.get_one(Episode, second).title == "第二集"


def test_lone_surrogates_in_json_are_400(client: FlaskClient, runtime: Runtime) -> None:
    episode_id = make_episode(runtime, "田间课堂")
    auth = {**token_for(runtime, "producer"), "Content-Type": "application/json"}
    r = client.patch(
        f"/api/v1/episodes/{episode_id}", data='{"synopsis": "\\ud800 讲农业"}', headers=auth
    )
    assert r.status_code == 400
    r = client.patch(
        f"/api/v1/episodes/{episode_id}", data='{"synopsis": "\\ud83d\\ude00 讲农业"}', headers=auth
    )
    assert r.status_code == 200 and r.json["synopsis"] == "😀 讲农业"  # a pair is fine


# ---- CSV formula injection ------------------------------------------------------------------


def test_release_csvs_neutralise_formulas(
    client: FlaskClient, runtime: Runtime, login: Callable[[str], FlaskClient]
) -> None:
    with runtime.db.session() as s:
        county = s.scalar(select(County).where(County.code == "c1"))
        assert county is not None
        county.name = '=HYPERLINK("http://evil.example/","点我")'
        s.commit()
    release_id = _legacy_release(runtime, "+2026年第1期", "")
    login("publisher")
    for url in ("/releases/utilisation.csv", f"/releases/{release_id}/coverage.csv"):
        r = client.get(url)
        assert r.status_code == 200
        cells = [c for row in csv.reader(io.StringIO(r.get_data(as_text=True))) for c in row]
        assert "'=HYPERLINK(\"http://evil.example/\",\"点我\")" in cells, url
        assert not any(c[:1] in ("=", "+", "-", "@") for c in cells), url


def test_method_not_allowed_says_which_methods(client: FlaskClient) -> None:
    for path in ("/api/v1/topics", "/login"):
        r = client.delete(path)
        assert r.status_code == 405
        assert "GET" in r.headers.get("Allow", ""), path


# ---- security headers -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/api/v1/openapi.json", "/static/app.css", "/nope"])
def test_security_headers_on_every_response(client: FlaskClient, path: str) -> None:
    r = client.get(path)
    r.close()
    csp = r.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers.get("X-Frame-Options") == "DENY"
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    assert r.headers.get("Referrer-Policy") == "same-origin"


def test_security_headers_keep_the_session_cookie_usable_over_http(
    client: FlaskClient, login: Callable[[str], FlaskClient]
) -> None:
    login("producer")  # asserts the redirect after sign-in
    assert client.get("/").status_code == 200  # the cookie came back over plain HTTP
