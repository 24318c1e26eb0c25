"""What the server says reaches people in their language: error pages with a way back they
may open, API errors with a stable code, job failures and QC findings stored as codes."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mam.models import Job, JobKind, JobState, VersionState
from mam.models.processing import QCReport, QCVerdict
from mam.runtime import Runtime
from tests import factories
from tests.web.conftest import csrf_from
from tests.web.county_fixtures import CountyWorld
from tests.web.test_county_page import signed_in
from tests.web.test_upload import create, patch, token_for

ENGLISH_SENTENCE = re.compile(r"[A-Za-z]+ [a-z]+ [a-z]+ [a-z]+")


def text_of(html: str) -> str:
    """Return the visible text of a page's main part (no tags, scripts or attributes)."""
    main = html.split("<main", 1)[-1]
    main = re.sub(r"<script.*?</script>|<style.*?</style>", " ", main, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def test_a_forged_viewer_count_gets_a_chinese_page_with_a_way_back_for_the_county(
    world: CountyWorld,
) -> None:
    client = signed_in(world, "county")
    html = client.get("/county/").get_data(as_text=True)
    r = client.post(
        f"/county/releases/{world.release}/screenings",
        data={"csrf_token": csrf_from(html), "screened_on": "2026-11-20", "viewers": "-5"},
    )
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "<h1>无法完成请求</h1>" in page  # the title names the kind of refusal
    message = re.search(r'data-testid="error-message">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    assert not ENGLISH_SENTENCE.search(message), message
    back = re.search(r'<a href="([^"]+)" data-testid="error-home">([^<]+)</a>', page)
    assert back is not None and back.group(2) == "返回本县供片批次"
    assert client.get(back.group(1)).status_code == 200  # a page the county may open


@pytest.mark.parametrize(
    ("username", "back", "text"),
    [
        ("producer", "/", "返回影片目录"),
        ("reviewer", "/", "返回影片目录"),
        ("publisher", "/", "返回影片目录"),
        ("admin", "/", "返回影片目录"),
        ("county", "/county/", "返回本县供片批次"),
    ],
)
def test_error_pages_link_only_to_a_page_the_reader_may_open(
    app: Flask, login: object, username: str, back: str, text: str
) -> None:
    client: FlaskClient = login(username)  # type: ignore[operator]
    r = client.get("/episodes/999999" if username != "county" else "/no/such/page")
    assert r.status_code == 404
    page = r.get_data(as_text=True)
    assert f'<a href="{back}" data-testid="error-home">{text}</a>' in page
    assert "<h1>未找到</h1>" in page
    assert client.get(back).status_code == 200


def test_a_signed_out_visitor_is_sent_to_the_sign_in_page(client: FlaskClient) -> None:
    page = client.get("/no/such/page").get_data(as_text=True)
    assert '<a href="/login" data-testid="error-home">登录</a>' in page


def test_api_errors_carry_code_params_and_a_message_in_the_requests_language(
    app: Flask, runtime: Runtime
) -> None:
    client = app.test_client()
    headers = token_for(runtime, "producer")
    zh = client.get("/api/v1/versions/424242", headers={**headers, "Accept-Language": "zh-CN"})
    en = client.get("/api/v1/versions/424242", headers={**headers, "Accept-Language": "en"})
    assert zh.status_code == en.status_code == 404
    assert zh.json is not None and en.json is not None
    assert zh.json["code"] == en.json["code"] == "catalogue.version_missing"
    assert zh.json["params"] == en.json["params"] == {"id": 424242}
    assert zh.json["message"] == "版本 424242 不存在。"
    assert en.json["message"] == "Version 424242 does not exist."


def test_an_upload_that_is_not_media_is_refused_in_chinese_with_the_detail_apart(
    app: Flask, runtime: Runtime, client: FlaskClient
) -> None:
    headers = token_for(runtime, "producer")
    body = b"this is a text file renamed .mp4\n" * 20
    upload_id = create(client, headers, len(body), filename="讲座.mp4")
    r = patch(client, headers, upload_id, 0, body)
    assert r.status_code == 422  # type: ignore[attr-defined]
    lines = r.get_data(as_text=True).splitlines()  # type: ignore[attr-defined]
    assert lines[0] == "讲座.mp4 不是可读取的音视频文件。"
    assert lines[1].startswith("技术细节：") and "Invalid data found" in lines[1]
    assert r.headers["Upload-Error-Code"] == "media.unreadable"  # type: ignore[attr-defined]


def _failed_job(runtime: Runtime, code: str | None, params: dict, last_error: str) -> int:
    with runtime.db.session() as s:
        v = factories.version(s, VersionState.FAILED)
        v.asset.media_info = {"duration": 125.4, "container": "mov,mp4", "video": [], "audio": []}
        s.add(Job(version_id=v.id, kind=JobKind.PROCESS, state=JobState.FAILED, attempts=1,
                  last_error=last_error, error_code=code, error_params=params))  # fmt: skip
        v.failure_reason = last_error
        s.commit()
        return v.episode_id


def test_a_job_failure_is_shown_in_the_readers_language_and_old_rows_as_they_were(
    app: Flask, runtime: Runtime, login: object
) -> None:
    new = _failed_job(
        runtime,
        "processing.ffmpeg_failed",
        {"detail": "moov atom not found"},
        "Transcoding failed. (moov atom not found)",
    )
    client: FlaskClient = login("producer")  # type: ignore[operator]
    page = client.get(f"/episodes/{new}").get_data(as_text=True)
    cell = page.split('data-testid="job-error">')[1].split("</td>")[0]
    assert cell.startswith("转码失败。")
    assert 'data-testid="job-error-detail"' in cell and "moov atom not found" in cell
    reason = page.split('data-testid="failure-reason">')[1].split("</dd>")[0]
    assert reason == "转码失败。"
    api = client.get(f"/api/v1/episodes/{new}", headers={"Accept": "application/json"})
    job = api.json["versions"][0]["jobs"][0]  # type: ignore[index]
    assert job["error"] == {
        "code": "processing.ffmpeg_failed",
        "params": {"detail": "moov atom not found"},
        "message": "转码失败。",
        "detail": "moov atom not found",
    }
    old = _failed_job(runtime, None, {}, "ffmpeg failed: moov atom not found")
    page = client.get(f"/episodes/{old}").get_data(as_text=True)
    assert "ffmpeg failed: moov atom not found" in page  # a row from before codes


def test_qc_findings_are_shown_by_code_in_chinese(
    app: Flask, runtime: Runtime, login: object
) -> None:
    finding = {
        "check": "black", "severity": "error", "code": "qc.black",
        "template": "black picture from %(start)s to %(end)s (%(seconds).1f s)",
        "params": {"start": "0:00:01.000", "end": "0:00:09.000", "seconds": 8.0},
        "message": "black picture from 0:00:01.000 to 0:00:09.000 (8.0 s)", "start": 1.0,
    }  # fmt: skip
    with runtime.db.session() as s:
        v = factories.version(s, VersionState.IN_REVIEW, title="乡村振兴 第2集")
        v.asset.media_info = {"duration": 125.4, "container": "mov,mp4", "video": [], "audio": []}
        s.add(QCReport(version_id=v.id, verdict=QCVerdict.FAIL, errors=1,
                       report={"findings": [finding]}))  # fmt: skip
        s.commit()
        episode, version = v.episode_id, v.id
    client: FlaskClient = login("reviewer")  # type: ignore[operator]
    page = client.get(f"/episodes/{episode}").get_data(as_text=True)
    table = page.split('data-testid="qc-findings"')[1].split("</table>")[0]
    assert "0:00:01.000 至 0:00:09.000 黑场（8.0 秒）" in table
    review = client.get(f"/review/versions/{version}").get_data(as_text=True)
    panel = review.split('data-testid="qc-findings"')[1].split("</ul>")[0]
    assert "0:00:01.000 至 0:00:09.000 黑场（8.0 秒）" in panel
    assert "black picture" not in text_of(review)


def test_the_cli_speaks_the_language_of_mam_locale(runtime: Runtime) -> None:
    from click.testing import CliRunner

    from mam.cli import cli

    env = {**runtime.settings.to_env(), "MAM_LOCALE": "zh_CN"}
    result = CliRunner().invoke(cli, ["show", "424242"], env=env)
    assert result.exit_code == 3
    assert result.output.strip() == "错误: 版本 424242 不存在。"
    env["MAM_LOCALE"] = "en_US.UTF-8"
    result = CliRunner().invoke(cli, ["show", "424242"], env=env)
    assert "error: Version 424242 does not exist." in result.output


def test_the_chosen_language_stays_with_the_account(
    app: Flask, runtime: Runtime, login: object
) -> None:
    client: FlaskClient = login("producer")  # type: ignore[operator]
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post("/language/en", data={"csrf_token": token}).status_code == 302
    with runtime.db.session() as s:
        from mam.models import User

        user = s.query(User).filter_by(username="producer").one()
        assert user.locale == "en"  # mail to this user is written in English
    # A script with the user's token and no Accept-Language gets the account's language.
    api = app.test_client().get("/api/v1/versions/424242", headers=token_for(runtime, "producer"))
    assert api.json is not None and api.json["message"] == "Version 424242 does not exist."
