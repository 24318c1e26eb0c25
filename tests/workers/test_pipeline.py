"""The processing pipeline in-process (the worker tests run the same code in Celery)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from mam.errors import ProcessingError
from mam.models import Job, JobState, Version, VersionState
from mam.probe import probe
from mam.runtime import Runtime
from mam.services.ingest import IngestService
from mam.services.processing import ProcessingService
from tests.conftest import cut_midstream
from workers.pipeline import process_source

pytestmark = pytest.mark.slow


def run(runtime: Runtime, session: Session, version_id: int) -> list[float]:
    """Process a version like the task does; return the progress values recorded."""
    service = ProcessingService(session, runtime.storage)
    plan = service.begin(version_id, worker="test")
    assert plan is not None
    seen: list[float] = []

    def progress(p) -> None:  # type: ignore[no-untyped-def]
        seen.append(p.percent)
        service.record_progress(plan.job_id, p.percent, p.eta)

    try:
        process_source(
            plan,
            runtime.storage,
            runtime.settings,
            on_progress=progress,
            publish=lambda outs: service.publish(plan, outs),
        )
    except ProcessingError as exc:
        service.fail(plan, exc.message, permanent=exc.permanent)
        raise
    return seen


def faststart(path: Path) -> bool:
    data = path.read_bytes()
    return 0 <= data.find(b"moov") < data.find(b"mdat")


def test_proxy_and_poster_are_published(
    runtime: Runtime, session: Session, fresh_clip: Path, tmp_path: Path
) -> None:
    v = (
        IngestService(session, runtime.storage)
        .ingest_file(fresh_clip, programme="时代风采", title="样片")
        .version
    )
    seen = run(runtime, session, v.id)
    session.expire_all()
    v = session.get_one(Version, v.id)
    assert v.state == VersionState.READY
    assert seen and seen[-1] == 100.0 and seen == sorted(seen)
    job = v.jobs[-1]
    assert (job.state, job.progress, job.attempts) == (JobState.SUCCEEDED, 100.0, 1)
    proxy, poster = v.rendition("proxy"), v.rendition("poster")
    assert proxy is not None and poster is not None
    assert proxy.storage_key == f"renditions/{v.id}/proxy/proxy.mp4"
    assert poster.storage_key == f"thumbs/{v.id}/poster.jpg"
    local = tmp_path / "proxy.mp4"
    runtime.storage.download_to(proxy.storage_key, local)
    info = probe(local)
    assert info.primary_video and info.primary_video.codec == "h264"
    assert info.primary_audio and info.primary_audio.codec == "aac"
    assert info.primary_video.height <= 540 and abs(info.duration - 2.0) < 0.1
    assert faststart(local)
    with runtime.storage.open(poster.storage_key) as fh:
        assert fh.read(3) == b"\xff\xd8\xff"  # JPEG
    # Only the original and the two outputs remain: no staging leftovers.
    assert sorted(o.key for o in runtime.storage.list("")) == sorted(
        [v.asset.storage_key, proxy.storage_key, poster.storage_key]
    )


def test_running_twice_is_harmless(runtime: Runtime, session: Session, fresh_clip: Path) -> None:
    v = (
        IngestService(session, runtime.storage)
        .ingest_file(fresh_clip, programme="P", title="T")
        .version
    )
    run(runtime, session, v.id)
    # A redelivered task for a finished job does nothing.
    assert ProcessingService(session, runtime.storage).begin(v.id, worker="again") is None
    session.expire_all()
    v = session.get_one(Version, v.id)
    assert v.state == VersionState.READY and len(v.renditions) == 2


def test_damaged_source_fails_with_reason_and_keeps_original(
    runtime: Runtime, session: Session, fresh_clip: Path, tmp_path: Path
) -> None:
    """A faststart MP4 cut mid-stream probes fine but cannot be processed as good."""
    cut = cut_midstream(fresh_clip, tmp_path / "断 片.mp4")
    v = (
        IngestService(session, runtime.storage)
        .ingest_file(cut, programme="P", title="断片")
        .version
    )
    with pytest.raises(ProcessingError) as err:
        run(runtime, session, v.id)
    assert err.value.permanent
    session.expire_all()
    v = session.get_one(Version, v.id)
    assert v.state == VersionState.FAILED and v.failure_reason
    assert v.renditions == []
    assert session.get_one(Job, v.jobs[-1].id).state == JobState.FAILED
    with runtime.storage.open(v.asset.storage_key) as fh:
        assert fh.read() == cut.read_bytes()  # the original is never modified
    assert [o.key for o in runtime.storage.list("")] == [v.asset.storage_key]
