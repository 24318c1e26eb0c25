"""The processing pipeline in-process on generated media (the worker tests run it in Celery).

Assertions are what a viewer or a county technician would notice: picture size and
display aspect, progressive frames, duration, sound present and at the target loudness,
every HLS rung in the master playlist and every segment starting on a keyframe, a
poster that is not black, nothing half-published after a failure.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from mam.errors import ProcessingError
from mam.models import Job, JobState, Version, VersionState
from mam.probe import MediaInfo, probe
from mam.runtime import Runtime
from mam.services.ingest import IngestService
from mam.services.processing import ProcessingService
from tests import media
from tests.conftest import cut_midstream
from workers import pipeline
from workers.ffmpeg.hls import parse_master, parse_media
from workers.pipeline import process_source

pytestmark = pytest.mark.slow
PROFILES = {"broadcast", "playback", "web", "mobile", "proxy", "poster"}


@pytest.fixture(scope="module")
def sample(media_dir: Path) -> Callable[[str], Path]:
    """Return a function that generates (once per module) a named sample file."""
    folder = media_dir / "pipeline"
    folder.mkdir(exist_ok=True)
    makers: dict[str, Callable[[Path], Path]] = {
        "interlaced.ts": media.make_interlaced_mpeg2_ts,
        "dvd.mpg": media.make_anamorphic_dvd,
        "phone.mp4": media.make_rotated_phone,
        "surround.mp4": media.make_surround,
        "silent.webm": media.make_webm_no_audio,
        "vfr.mp4": media.make_vfr,
        "black-start.mp4": media.make_black_start,
        "truncated.ts": media.make_truncated_ts,
        "huge.avi": media.make_huge_frame_header,
        "audio.m4a": media.make_audio_only,
        "hlg-phone.mp4": media.make_hdr_phone,
        "pq-phone.mp4": lambda out: media.make_hdr_phone(out, "smpte2084"),
        "dual-mono.mov": media.make_dual_mono_master,
    }
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            made[name] = makers[name](folder / name)
        return made[name]

    return get


def ingest(runtime: Runtime, session: Session, path: Path, title: str | None = None) -> int:
    result = IngestService(session, runtime.storage).ingest_file(
        path, programme="时代风采", title=title or path.name
    )
    session.commit()  # the test is the entry point: it ends the unit of work
    return result.version.id


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
            publish=lambda result: service.publish(plan, result),
        )
    except ProcessingError as exc:
        service.fail(plan, exc, permanent=exc.permanent,
                     qc_report=exc.details.get("qc_report"))  # type: ignore[arg-type]  # fmt: skip
        session.commit()
        raise
    session.commit()  # as the task's unit of work does
    return seen


def fetch(runtime: Runtime, key: str, dest: Path) -> Path:
    runtime.storage.download_to(key, dest)
    return dest


def faststart(path: Path) -> bool:
    data = path.read_bytes()
    return 0 <= data.find(b"moov") < data.find(b"mdat")


def loudness(path: Path) -> float:
    """Measure a file's integrated loudness independently (ffmpeg's ebur128 filter)."""
    result = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-vn", "-af",
         "ebur128=framelog=verbose", "-f", "null", "-"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    summary = result.stderr[result.stderr.rindex("Integrated loudness:") :]
    return float(summary.split("I:", 1)[1].split("LUFS", 1)[0])


def mean_luma(path: Path) -> float:
    """Return the average brightness (0-255) of an image."""
    gray = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    return sum(gray) / len(gray)


def keyframe_starts(segment: Path) -> bool:
    """Return True when the first video frame of a segment is a keyframe."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "packet=flags", "-read_intervals", "%+#1", "-of", "csv=p=0", str(segment)],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    return out.strip().splitlines()[0].startswith("K")


def storage_keys(runtime: Runtime) -> list[str]:
    return sorted(o.key for o in runtime.storage.list(""))


def check_hls(runtime: Runtime, version: Version, tmp: Path) -> list[MediaInfo]:
    """Every rung in the master, every segment there and starting on a keyframe."""
    web = version.rendition("web")
    assert web is not None and web.mime_type == "application/vnd.apple.mpegurl"
    base = web.storage_key.rsplit("/", 1)[0]
    with runtime.storage.open(web.storage_key) as fh:
        variants = parse_master(fh.read().decode())
    assert [v.uri for v in variants] == [f"{r['name']}/index.m3u8" for r in web.media_info["rungs"]]
    infos = []
    for variant in variants:
        assert (
            variant.codecs and variant.codecs.startswith("avc1.") and "mp4a.40.2" in variant.codecs
        )
        with runtime.storage.open(f"{base}/{variant.uri}") as fh:
            playlist = fh.read().decode()
        assert "#EXT-X-ENDLIST" in playlist and "#EXT-X-PLAYLIST-TYPE:VOD" in playlist
        rung = variant.uri.split("/")[0]
        for segment in parse_media(playlist):
            local = fetch(runtime, f"{base}/{rung}/{segment.uri}", tmp / rung / segment.uri)
            assert keyframe_starts(local), f"{rung}/{segment.uri} does not start on a keyframe"
            assert segment.duration <= 6.01
        first = tmp / rung / parse_media(playlist)[0].uri
        info = probe(first)
        v = info.primary_video
        assert v is not None
        assert (v.display_width, v.display_height) == (variant.width, variant.height)
        infos.append(info)
    return infos


def test_every_profile_is_published(
    runtime: Runtime, session: Session, fresh_clip: Path, tmp_path: Path
) -> None:
    vid = ingest(runtime, session, fresh_clip, "样片")
    seen = run(runtime, session, vid)
    session.expire_all()
    v = session.get_one(Version, vid)
    assert v.state == VersionState.READY
    assert seen and seen[-1] == 100.0 and seen == sorted(seen)
    job = v.jobs[-1]
    assert (job.state, job.progress, job.attempts) == (JobState.SUCCEEDED, 100.0, 1)
    assert {r.profile for r in v.renditions} == PROFILES
    for name, h264 in (("broadcast", "High"), ("playback", "Main"), ("mobile", "Main"),
                       ("proxy", "Main")):  # fmt: skip
        r = v.rendition(name)
        assert r is not None and r.storage_key == f"renditions/{vid}/{name}/{name}.mp4"
        local = fetch(runtime, r.storage_key, tmp_path / f"{name}.mp4")
        info = probe(local)
        assert info.primary_video and info.primary_audio
        assert (info.primary_video.codec, info.primary_video.profile) == ("h264", h264)
        assert (info.primary_video.width, info.primary_video.height) == (320, 240)  # no upscale
        assert (info.primary_audio.codec, info.primary_audio.channels) == ("aac", 2)
        assert info.duration == pytest.approx(2.0, abs=0.05) and faststart(local)
        assert r.size == local.stat().st_size
    check_hls(runtime, v, tmp_path / "web")
    poster = v.rendition("poster")
    assert poster is not None and poster.storage_key == f"thumbs/{vid}/poster.jpg"
    thumbs = v.thumbnail_set  # type: ignore[attr-defined]
    times = [t["time"] for t in thumbs.thumbnails]
    assert times == [0.08, 0.28, 0.48, 0.68, 0.88, 1.08, 1.28, 1.48, 1.68, 1.88]
    assert thumbs.sprite_keys == [f"thumbs/{vid}/sprite-001.jpg"]
    assert thumbs.vtt_key == f"thumbs/{vid}/thumbnails.vtt"
    assert thumbs.layout["cells"] == 2 and thumbs.layout["interval"] == 1.0
    with runtime.storage.open(thumbs.vtt_key) as fh:
        assert fh.read().decode().startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n"
                                             "sprite-001.jpg#xywh=0,0,120,90")  # fmt: skip
    qc = v.qc_report  # type: ignore[attr-defined]
    assert qc.verdict.value == "pass" and qc.job_id == job.id
    loud = v.loudness  # type: ignore[attr-defined]
    assert loud.integrated is not None and len(loud.results) == 2
    assert [r["target"]["integrated"] for r in loud.results] == [-23.0, -16.0]
    # Only the original and the published files remain: no staging or scratch leftovers.
    keys = storage_keys(runtime)
    assert not [k for k in keys if k.startswith("tmp/")]
    assert {k.split("/")[0] for k in keys} == {"originals", "renditions", "thumbs"}
    assert not list(Path(runtime.settings.work_dir).iterdir())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "size", "rungs"),
    [
        ("interlaced.ts", (1920, 1080), ["1080p", "720p", "540p", "360p"]),
        ("dvd.mpg", (1024, 576), ["540p", "360p"]),  # 16:9 PAL DVD: square pixels
        ("phone.mp4", (180, 320), ["320p"]),  # turned upright
        ("surround.mp4", (320, 240), ["240p"]),
        ("silent.webm", (320, 240), ["240p"]),
        ("vfr.mp4", (320, 240), ["240p"]),
    ],
)
def test_odd_sources_become_proper_deliverables(
    runtime: Runtime, session: Session, sample: Callable[[str], Path], tmp_path: Path,
    name: str, size: tuple[int, int], rungs: list[str],
) -> None:  # fmt: skip
    source = probe(sample(name))
    vid = ingest(runtime, session, sample(name))
    run(runtime, session, vid)
    session.expire_all()
    v = session.get_one(Version, vid)
    assert v.state == VersionState.READY and {r.profile for r in v.renditions} == PROFILES
    broadcast = probe(fetch(runtime, v.rendition("broadcast").storage_key, tmp_path / "b.mp4"))  # type: ignore[union-attr]
    video, audio = broadcast.primary_video, broadcast.primary_audio
    assert video is not None and audio is not None
    assert (video.width, video.height, video.sar, video.rotation) == (*size, "1:1", 0)
    assert video.field_order in ("progressive", "unknown") and not video.is_vfr
    expected_dar = source.primary_video.display_width / source.primary_video.display_height  # type: ignore[union-attr]
    assert video.width / video.height == pytest.approx(expected_dar, rel=0.01)
    assert (audio.codec, audio.channels, audio.sample_rate) == ("aac", 2, 48000)
    picture = source.primary_video.duration or source.duration  # type: ignore[union-attr]
    assert video.duration == pytest.approx(picture, abs=1 / float(video.fps) + 0.001)
    if name == "vfr.mp4":
        assert video.frame_rate == "18/1"
    if name == "interlaced.ts":
        assert video.frame_rate == "25/1"  # one frame per frame, not doubled
    hls = check_hls(runtime, v, tmp_path / "web")
    assert [r["name"] for r in v.rendition("web").media_info["rungs"]] == rungs  # type: ignore[union-attr]
    assert all(i.primary_audio is not None for i in hls)
    poster = fetch(runtime, v.rendition("poster").storage_key, tmp_path / "poster.jpg")  # type: ignore[union-attr]
    assert mean_luma(poster) > 40
    qc = v.qc_report  # type: ignore[attr-defined]
    if source.has_audio:
        assert qc.verdict.value == "pass", qc.findings
        for profile, target in (("broadcast", -23.0), ("web", -16.0)):
            key = v.rendition(profile).storage_key  # type: ignore[union-attr]
            if profile == "web":
                key = key.replace("master.m3u8", f"{rungs[0]}/index.m3u8")
                path = tmp_path / "web" / rungs[0] / "index.m3u8"
                fetch(runtime, key, path)
            else:
                path = tmp_path / "b.mp4"
            assert loudness(path) == pytest.approx(target, abs=1.0), profile
    else:
        assert qc.verdict.value == "warn"
        assert [f["check"] for f in qc.findings] == ["streams"]  # silent track added


def channel_levels(path: Path) -> list[float]:
    """Return the RMS level (dBFS) of each channel of a file's sound (ffmpeg's astats)."""
    result = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-vn", "-af",
         "astats=measure_overall=none:measure_perchannel=RMS_level", "-f", "null", "-"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    levels = [line.rsplit(":", 1)[1].strip() for line in result.stderr.splitlines()
              if "RMS level dB" in line]  # fmt: skip
    return [float("-inf") if v == "-inf" else float(v) for v in levels]


@pytest.mark.parametrize("name", ["hlg-phone.mp4", "pq-phone.mp4"])
def test_a_phones_hdr_video_becomes_sdr_bt709(
    runtime: Runtime, session: Session, sample: Callable[[str], Path], tmp_path: Path, name: str
) -> None:
    """10-bit HEVC in BT.2020 with HLG or PQ (what phones record by default) comes out as
    8-bit H.264 in SDR BT.709, upright: not HDR pictures truncated to 8 bits and still
    tagged HDR, which SDR televisions and browsers show washed out."""
    vid = ingest(runtime, session, sample(name))
    run(runtime, session, vid)
    session.expire_all()
    v = session.get_one(Version, vid)
    assert v.state == VersionState.READY and {r.profile for r in v.renditions} == PROFILES
    for profile in ("broadcast", "playback", "proxy"):
        out = fetch(runtime, v.rendition(profile).storage_key, tmp_path / f"{profile}.mp4")  # type: ignore[union-attr]
        video = probe(out).primary_video
        assert video is not None
        assert (video.width, video.height, video.rotation) == (180, 320, 0)
        assert (video.pix_fmt, video.color_transfer) == ("yuv420p", "bt709"), profile
    [hls] = check_hls(runtime, v, tmp_path / "web")
    assert hls.primary_video is not None and hls.primary_video.color_transfer == "bt709"
    assert v.qc_report.verdict.value == "pass", v.qc_report.findings  # type: ignore[attr-defined]


def test_a_masters_two_mono_tracks_are_its_left_and_right(
    runtime: Runtime, session: Session, sample: Callable[[str], Path], tmp_path: Path
) -> None:
    """A broadcast master with CH1 and CH2 as two mono streams keeps them apart: CH1 (a
    tone) on the left, CH2 (silence) on the right, not CH1 copied to both sides."""
    source = sample("dual-mono.mov")
    assert [a.channels for a in probe(source).audio] == [1, 1]
    vid = ingest(runtime, session, source)
    run(runtime, session, vid)
    session.expire_all()
    v = session.get_one(Version, vid)
    assert v.state == VersionState.READY
    for profile in ("broadcast", "proxy"):
        out = fetch(runtime, v.rendition(profile).storage_key, tmp_path / f"{profile}.mp4")  # type: ignore[union-attr]
        left, right = channel_levels(out)
        assert left > -40 and right < -80, (profile, left, right)
    assert loudness(tmp_path / "broadcast.mp4") == pytest.approx(-23.0, abs=1.0)


def test_poster_is_not_black(
    runtime: Runtime, session: Session, sample: Callable[[str], Path], tmp_path: Path
) -> None:
    """A film opening on 1.5 s of black gets a poster with a picture on it."""
    vid = ingest(runtime, session, sample("black-start.mp4"))
    run(runtime, session, vid)
    session.expire_all()
    v = session.get_one(Version, vid)
    poster = fetch(runtime, v.rendition("poster").storage_key, tmp_path / "p.jpg")  # type: ignore[union-attr]
    assert mean_luma(poster) > 40
    black = [f for f in v.qc_report.findings if f["check"] == "black"]  # type: ignore[attr-defined]
    assert [(f["severity"], f["start"]) for f in black] == [("info", 0.0)]
    assert black[0]["end"] == pytest.approx(1.5, abs=0.05)


def test_running_twice_is_harmless(runtime: Runtime, session: Session, fresh_clip: Path) -> None:
    vid = ingest(runtime, session, fresh_clip)
    run(runtime, session, vid)
    keys = storage_keys(runtime)
    # A redelivered task for a finished job does nothing.
    assert ProcessingService(session, runtime.storage).begin(vid, worker="again") is None
    session.expire_all()
    v = session.get_one(Version, vid)
    assert v.state == VersionState.READY and len(v.renditions) == len(PROFILES)
    assert storage_keys(runtime) == keys


def test_damaged_source_fails_with_its_qc_report_and_publishes_nothing(
    runtime: Runtime, session: Session, fresh_clip: Path, tmp_path: Path
) -> None:
    """A faststart MP4 cut mid-stream probes fine, but its outputs come out half as long."""
    cut = cut_midstream(fresh_clip, tmp_path / "断 片.mp4")
    vid = ingest(runtime, session, cut)
    with pytest.raises(ProcessingError) as err:
        run(runtime, session, vid)
    assert err.value.permanent
    session.expire_all()
    v = session.get_one(Version, vid)
    assert v.state == VersionState.FAILED
    assert v.failure_reason and v.failure_reason.startswith("QC: ")
    assert v.failure_reason.startswith("QC: every output is shorter than the source (")
    assert "the source may be damaged" in v.failure_reason
    assert v.renditions == []
    assert session.get_one(Job, v.jobs[-1].id).state == JobState.FAILED
    qc = v.qc_report  # type: ignore[attr-defined]
    assert qc.verdict.value == "fail"
    assert {"duration"} <= {f["check"] for f in qc.findings if f["severity"] == "error"}
    with runtime.storage.open(v.asset.storage_key) as fh:
        assert fh.read() == cut.read_bytes()  # the original is never modified
    assert storage_keys(runtime) == [v.asset.storage_key]
    assert not list(Path(runtime.settings.work_dir).iterdir())  # type: ignore[arg-type]


def test_truncated_transport_stream_is_not_published_as_good(
    runtime: Runtime, session: Session, sample: Callable[[str], Path]
) -> None:
    vid = ingest(runtime, session, sample("truncated.ts"))
    run(runtime, session, vid)
    session.expire_all()
    v = session.get_one(Version, vid)
    qc = v.qc_report  # type: ignore[attr-defined]
    assert qc.verdict.value == "fail"  # approval is blocked until someone waives it
    (decode,) = [f for f in qc.findings if f["check"] == "decode"]
    assert decode["severity"] == "error" and decode["count"] >= 1 and decode["samples"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("audio.m4a", "audio.m4a has no picture; a sound-only file cannot become a film"),
        ("huge.avi", "huge.avi: frames of 16000×16000 are outside what can be processed"),
    ],
)
def test_unusable_sources_fail_at_once_with_the_reason(
    runtime: Runtime, session: Session, sample: Callable[[str], Path], name: str, reason: str
) -> None:
    vid = ingest(runtime, session, sample(name))
    with pytest.raises(ProcessingError) as err:
        run(runtime, session, vid)
    assert err.value.permanent and err.value.message.startswith(reason)
    session.expire_all()
    v = session.get_one(Version, vid)
    assert v.state == VersionState.FAILED and v.failure_reason == err.value.message
    assert v.jobs[-1].attempts == 1
    assert v.jobs[-1].error_code == err.value.code and err.value.code.startswith("processing.")
    assert storage_keys(runtime) == [v.asset.storage_key]


def test_a_failed_publish_leaves_nothing_behind(
    runtime: Runtime, session: Session, fresh_clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vid = ingest(runtime, session, fresh_clip)
    moves = 0
    real_move = type(runtime.storage).move

    def flaky_move(self, src: str, dst: str) -> None:  # type: ignore[no-untyped-def]
        nonlocal moves
        moves += 1
        if moves == 7:
            raise OSError("disk unplugged")
        real_move(self, src, dst)

    monkeypatch.setattr(type(runtime.storage), "move", flaky_move)
    with pytest.raises(OSError, match="disk unplugged"):
        run(runtime, session, vid)
    session.rollback()
    session.expire_all()
    v = session.get_one(Version, vid)
    assert v.state == VersionState.PROCESSING and v.renditions == []
    assert storage_keys(runtime) == [v.asset.storage_key]  # no staging, no half a ladder
    assert not list(Path(runtime.settings.work_dir).iterdir())  # type: ignore[arg-type]


def test_scratch_space_of_killed_attempts_is_removed(tmp_path: Path) -> None:
    (tmp_path / "job7-abc").mkdir()
    (tmp_path / "job7-abc" / "proxy.mp4").write_bytes(b"half")
    (tmp_path / "job70-def").mkdir()
    pipeline.remove_leftovers(tmp_path, 7)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job70-def"]
    assert pipeline.sweep_work_dir(tmp_path, older_than=3600) == 0
    assert pipeline.sweep_work_dir(tmp_path, older_than=-1) == 1
    assert list(tmp_path.iterdir()) == []
