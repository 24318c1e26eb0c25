"""Processing on the episode page: scrub preview, thumbnails, QC report, the admin's retry."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mam.models import Job, JobKind, JobState, Version, VersionState
from mam.runtime import Runtime
from tests import factories
from tests.web.conftest import csrf_from


class RecordingQueue:
    """Stands in for the Celery queue: records what would be enqueued."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, int]] = []

    def enqueue_processing(self, version_id: int, job_id: int) -> str:
        self.sent.append((version_id, job_id))
        return "task-1"


@pytest.fixture
def queue(app: Flask) -> RecordingQueue:
    recording = RecordingQueue()
    app.extensions["mam_queue"] = recording
    return recording


@pytest.fixture
def failed_job(runtime: Runtime) -> tuple[int, int, int]:
    """A version whose processing failed: (episode id, version id, job id)."""
    with runtime.db.session() as s:
        v = factories.version(s, VersionState.FAILED)
        v.failure_reason = "ffmpeg failed: moov atom not found"
        v.asset.media_info = {"container": "mov,mp4", "format_long_name": "QuickTime / MOV",
                              "duration": 2.0, "video": [], "audio": []}  # fmt: skip
        job = Job(version_id=v.id, kind=JobKind.PROCESS, state=JobState.FAILED, attempts=1,
                  last_error=v.failure_reason)  # fmt: skip
        s.add(job)
        s.commit()
        return v.episode_id, v.id, job.id


@pytest.mark.slow
def test_episode_page_shows_scrub_thumbnails_and_qc(
    login: Callable[[str], FlaskClient], runtime: Runtime, ready_version: int
) -> None:
    client = login("reviewer")
    with runtime.db.session() as s:
        v = s.get_one(Version, ready_version)
        episode_id, thumbs = v.episode_id, v.thumbnail_set  # type: ignore[attr-defined]
        vtt_name = thumbs.vtt_key.rsplit("/", 1)[-1]
        sprite_name = thumbs.sprite_keys[0].rsplit("/", 1)[-1]
    html = client.get(f"/episodes/{episode_id}").get_data(as_text=True)
    assert f'data-vtt-url="/versions/{ready_version}/thumbs/{vtt_name}"' in html
    assert "scrub.js" in html
    assert 'data-testid="qc-report" data-verdict="pass"' in html
    assert 'data-testid="thumbnails"' in html
    for profile in ("broadcast", "playback", "web", "mobile", "proxy", "poster"):
        assert f'data-profile="{profile}"' in html
    with client.get(f"/versions/{ready_version}/thumbs/{vtt_name}") as vtt:
        assert vtt.status_code == 200 and vtt.mimetype == "text/vtt"
        text = vtt.get_data(as_text=True)
    assert text.startswith("WEBVTT") and f"{sprite_name}#xywh=0,0," in text
    with client.get(f"/versions/{ready_version}/thumbs/{sprite_name}") as sprite:
        assert sprite.status_code == 200 and sprite.data[:3] == b"\xff\xd8\xff"
    thumb = re.search(rf"/versions/{ready_version}/thumbs/(thumb-\d+\.jpg)", html)
    assert thumb
    with client.get(thumb.group(0)) as response:
        assert response.status_code == 200
    for name in ("poster.jpg", "..", "nope.jpg", "%2e%2e%2fmam.db"):
        assert client.get(f"/versions/{ready_version}/thumbs/{name}").status_code == 404


def test_admin_retries_a_failed_job(
    login: Callable[[str], FlaskClient],
    runtime: Runtime,
    failed_job: tuple[int, int, int],
    queue: RecordingQueue,
) -> None:
    episode_id, version_id, job_id = failed_job
    client = login("admin")
    html = client.get(f"/episodes/{episode_id}").get_data(as_text=True)
    assert 'data-testid="retry-job"' in html
    response = client.post(f"/jobs/{job_id}/retry", data={"csrf_token": csrf_from(html)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/episodes/{episode_id}")
    assert queue.sent == [(version_id, job_id)]  # enqueued, after the commit
    with runtime.db.session() as s:
        job, version = s.get_one(Job, job_id), s.get_one(Version, version_id)
        assert (job.state, job.attempts) == (JobState.QUEUED, 0)
        assert version.state == VersionState.PROCESSING and version.failure_reason is None
    # A second retry of a job that is no longer failed says why and enqueues nothing.
    page = client.get(f"/episodes/{episode_id}").get_data(as_text=True)
    again = client.post(f"/jobs/{job_id}/retry", data={"csrf_token": csrf_from(page)},
                        follow_redirects=True)  # fmt: skip
    assert f"只有失败的任务才能重试，任务 {job_id} 并未失败。" in again.get_data(as_text=True)
    assert queue.sent == [(version_id, job_id)]


def test_only_admins_may_retry(
    login: Callable[[str], FlaskClient],
    runtime: Runtime,
    failed_job: tuple[int, int, int],
    queue: RecordingQueue,
) -> None:
    episode_id, _version_id, job_id = failed_job
    client = login("producer")
    html = client.get(f"/episodes/{episode_id}").get_data(as_text=True)
    assert 'data-testid="retry-job"' not in html
    response = client.post(f"/jobs/{job_id}/retry", data={"csrf_token": csrf_from(html)})
    assert response.status_code == 403
    assert queue.sent == []
    with runtime.db.session() as s:
        assert s.get_one(Job, job_id).state == JobState.FAILED
