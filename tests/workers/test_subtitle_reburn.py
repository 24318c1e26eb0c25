"""Subtitles saved after processing reach the renditions that burn them in: the version's
ladder is queued again (a job through the outbox), the version is not distributable until
it succeeds, and the re-made playback copy shows the new cue."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.audit import AuditAction
from mam.errors import NotAllowed
from mam.models import AuditEvent, Job, JobKind, JobState, Rendition, Role, Version, VersionState
from mam.models.outbox import OutboxMessage
from mam.runtime import Runtime
from mam.services.ladder import require_distributable
from mam.services.subtitle_editor import SubtitleEditor
from mam.services.subtitles import SubtitleService
from tests import factories
from tests.web.conftest import process_now
from workers.tasks.chunks import run_ladder

VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n请认真学习\n".encode()
W, H = 320, 180


def processed(session: Session, state: VersionState = VersionState.READY) -> Version:
    """A version whose run made a playback copy (the shipped profile burns ``zh`` in)."""
    version = factories.version(session, state)
    version.renditions.append(Rendition(profile="playback", storage_key=f"r/{version.id}.mp4",
                                        mime_type="video/mp4", size=1))  # fmt: skip
    session.flush()
    return version


def ladders(session: Session, version: Version) -> list[str]:
    rows = session.scalars(
        select(Job).where(Job.version_id == version.id, Job.kind == JobKind.LADDER)
    )
    return [j.state.value for j in rows]


def test_new_burned_subtitles_queue_the_ladder_again(runtime: Runtime, session: Session) -> None:
    producer = factories.user(session, Role.ADMIN)
    version = processed(session)
    subtitles = SubtitleService(session, runtime.storage)
    subtitles.attach(version.episode, VTT, "字幕.vtt", "zh", producer)
    assert ladders(session, version) == ["queued"] and len(subtitles.reburned) == 1
    job = subtitles.reburned[0]
    sent = [m.payload["job_id"] for m in session.scalars(select(OutboxMessage))]
    assert job.id in sent  # through the outbox, after the commit
    with pytest.raises(NotAllowed) as refused:  # no package from the stale copy
        require_distributable(session, version)
    assert refused.value.code == "release.ladder_pending"
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.SUBTITLES_REBURN)
    ).one()
    assert (event.object_id, event.details["profiles"], event.details["job_id"]) == (
        version.id, ["playback"], job.id,
    )  # fmt: skip
    # Saved again while that job has not begun: it will read the newest revision anyway.
    SubtitleEditor(session, runtime.storage).save(
        version, "zh", [{"start": 1.0, "end": 2.0, "text": "再改一次"}], producer
    )
    assert ladders(session, version) == ["queued"]
    job.state = JobState.RUNNING  # begun: it read the revision before this one
    editor = SubtitleEditor(session, runtime.storage)
    editor.save(version, "zh", [{"start": 1.0, "end": 2.0, "text": "第三稿"}], producer)
    assert ladders(session, version) == ["running", "queued"] and len(editor.reburned) == 1


def test_what_does_not_queue_the_ladder(runtime: Runtime, session: Session) -> None:
    producer = factories.user(session, Role.ADMIN)
    subtitles = SubtitleService(session, runtime.storage)
    english = processed(session)
    subtitles.attach(english.episode, VTT, "en.vtt", "en", producer)  # nothing burns English
    unprocessed = factories.version(session, VersionState.READY)  # no playback copy yet
    subtitles.attach(unprocessed.episode, VTT, "a.vtt", "zh", producer)
    own = processed(session)  # plays its own zh row, not the episode's new one
    subtitles.attach(own.episode, VTT, "own.vtt", "zh", producer, version=own)
    (job,) = subtitles.reburned  # its own row: made again
    job.state = JobState.SUCCEEDED
    subtitles.attach(own.episode, VTT, "episode.vtt", "zh", producer)
    assert subtitles.reburned == []
    assert [(j.version_id, j.state) for j in session.scalars(select(Job))] == [
        (own.id, JobState.SUCCEEDED)
    ]


@pytest.mark.slow
def test_subtitles_saved_after_processing_burn_into_the_playback_copy(
    runtime: Runtime, tmp_path: Path
) -> None:
    film = tmp_path / "film.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c=0x404040:s={W}x{H}:r=25:d=3",
         "-f", "lavfi", "-i", "sine=duration=3", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(film)],
        check=True,
    )  # fmt: skip
    vid = process_now(runtime, film, title="后加字幕")

    def lit(name: str) -> int:
        with runtime.db.session() as s:
            key = s.get_one(Version, vid).rendition("playback").storage_key  # type: ignore[union-attr]
        runtime.storage.download_to(key, tmp_path / name)
        argv = ["ffmpeg", "-v", "error", "-ss", "1.5", "-i", str(tmp_path / name), "-frames:v",
                "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]  # fmt: skip
        data = subprocess.run(argv, check=True, capture_output=True, timeout=60).stdout
        return sum(1 for y in range(H // 2, H) for x in range(W)
                   if min(data[(y * W + x) * 3 :][:3]) > 150)  # fmt: skip

    assert lit("before.mp4") == 0
    with runtime.db.session() as s:
        version = s.get_one(Version, vid)
        producer = factories.user(s, Role.ADMIN)
        service = SubtitleService(s, runtime.storage)
        service.attach(version.episode, VTT, "字幕.vtt", "zh", producer)
        (job,) = service.reburned
        job_id = job.id
        s.commit()
    assert run_ladder(runtime, vid, job_id, "w")[0] == "ready"
    with runtime.db.session() as s:
        assert ladders(s, s.get_one(Version, vid)) == ["succeeded"]
        require_distributable(s, s.get_one(Version, vid))  # distributable again
    assert lit("after.mp4") > 10  # the cue, burned in
