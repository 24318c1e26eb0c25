"""Turn the files of a finished run into checks (for QC) and publishable outputs."""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mam.errors import InvalidMedia, ProcessingError
from mam.messages import processing
from mam.probe import MediaInfo, probe
from mam.services.processing import (
    LocalFile,
    ProcessingResult,
    RenditionOutput,
    ThumbnailOutput,
    rendition_key,
)
from workers.ffmpeg import analysis, hls, stills
from workers.ffmpeg.branding import BrandingInputs, card_seconds
from workers.ffmpeg.logs import LogLine
from workers.ffmpeg.plan import THUMB_FRAMES, EncodePlan, PlannedHls
from workers.qc import LoudnessResult, OutputCheck

HLS_MIME = "application/vnd.apple.mpegurl"


def picture_duration(info: MediaInfo) -> float:
    """Return how long the picture lasts (the video stream's duration when known).

    Output durations are compared picture to picture: audio stream durations in MPEG
    program and transport streams are estimates, and AAC pads its last frame.
    """
    video = info.primary_video
    return video.duration if video is not None and video.duration else info.duration


def probe_output(path: Path) -> MediaInfo:
    """Probe a finished output; a missing or unreadable one is a permanent failure."""
    if not path.exists():
        raise ProcessingError(
            processing.OUTPUT_MISSING, params={"output": path.name}, permanent=True
        )
    try:
        return probe(path, display_name=path.name)
    except InvalidMedia as exc:
        raise ProcessingError(
            processing.OUTPUT_UNUSABLE,
            params={"output": path.name},
            detail=exc.detail or exc.message,
            permanent=True,
        ) from exc


@dataclass(frozen=True)
class HlsCheck:
    """An HLS ladder as written: its master's variants and each rung's playlist."""

    planned: PlannedHls
    variants: list[hls.Variant]
    rungs: list[tuple[str, float, MediaInfo]]  # (name, playlist duration, probe of rung)


def _check_hls(out: Path, planned: PlannedHls) -> HlsCheck:
    folder = out / planned.spec.name
    master = folder / planned.spec.master
    if not master.exists():
        raise ProcessingError(
            processing.NO_MASTER, params={"profile": planned.spec.name}, permanent=True
        )
    variants = hls.parse_master(master.read_text(encoding="utf-8"))
    if [v.uri for v in variants] != [f"{r.name}/index.m3u8" for r in planned.rungs]:
        raise ProcessingError(
            processing.MASTER_INCOMPLETE, params={"profile": planned.spec.name}, permanent=True
        )
    rungs = []
    for rung in planned.rungs:
        playlist = folder / rung.name / "index.m3u8"
        text = playlist.read_text(encoding="utf-8")
        segments = hls.parse_media(text)
        missing = [s.uri for s in segments if not (playlist.parent / s.uri).exists()]
        if not hls.is_complete(text) or not segments or missing:
            raise ProcessingError(
                processing.PLAYLIST_INCOMPLETE,
                params={"profile": planned.spec.name, "rung": rung.name},
                permanent=True,
            )
        rungs.append((rung.name, sum(s.duration for s in segments), probe_output(playlist)))
    return HlsCheck(planned, variants, rungs)


@dataclass
class Collected:
    """Probes of every output of the one decode."""

    version_id: int
    mp4: dict[str, MediaInfo]
    hls: list[HlsCheck]
    plan: EncodePlan
    # Seconds of slate and closing card per profile (``branding.card_seconds``).
    cards: dict[str, float] = field(default_factory=dict)

    @property
    def checks(self) -> list[OutputCheck]:
        """Return one OutputCheck per MP4 and per HLS rung (picture durations)."""
        found = []
        rows = [(name, name, picture_duration(info), info) for name, info in self.mp4.items()]
        for ladder in self.hls:
            name = ladder.planned.spec.name
            rows += [(f"{name}/{rung}", name, duration, info)
                     for rung, duration, info in ladder.rungs]  # fmt: skip
        for name, profile, duration, info in rows:
            v = info.primary_video
            width, height = (v.display_width, v.display_height) if v else (None, None)
            found.append(OutputCheck(name, duration, info.has_video, info.has_audio, width, height,
                                     cards=self.cards.get(profile, 0.0)))  # fmt: skip
        return found

    def loudness_results(
        self,
        log: list[LogLine] | tuple[LogLine, ...],
        measured: analysis.LoudnessMeasurement | None,
    ) -> list[LoudnessResult]:
        """Return, per loudness target, its profiles and what pass 2 measured."""
        if measured is None or measured.is_silent:
            return []
        results = []
        for i, target in enumerate(self.plan.loudness_targets):
            profiles = [m.spec.name for m in self.plan.mp4 if m.spec.loudness == target]
            profiles += [h.spec.name for h in self.plan.hls if h.spec.loudness == target]
            output = analysis.parse_output_loudness(log, f"loudnorm@t{i}")
            results.append(LoudnessResult(target, tuple(profiles), output))
        return results

    def result(
        self,
        out: Path,
        layout: stills.SpriteLayout | None,
        report: dict[str, Any],
        loudness: dict[str, Any],
    ) -> ProcessingResult:
        """Return the publishable result: renditions, poster, thumbnails, QC and loudness."""
        vid, plan = self.version_id, self.plan
        renditions = []
        for m in plan.mp4:
            key = rendition_key(vid, m.spec.name, m.file)
            renditions.append(
                RenditionOutput(
                    m.spec.name,
                    key,
                    (LocalFile(out / m.file, key),),
                    "video/mp4",
                    self.mp4[m.spec.name],
                )
            )
        for ladder in self.hls:
            renditions.append(_hls_output(vid, out, ladder))
        poster = out / stills.THUMBS / stills.POSTER
        if poster.exists() and plan.poster_size:
            key = rendition_key(vid, "poster", stills.POSTER)
            width, height = plan.poster_size
            renditions.append(
                RenditionOutput(
                    "poster",
                    key,
                    (LocalFile(poster, key),),
                    "image/jpeg",
                    None,
                    None,
                    {"width": width, "height": height},
                )
            )
        return ProcessingResult(
            tuple(renditions), _thumbnails(vid, out, plan, layout), report, loudness
        )


def _hls_output(vid: int, out: Path, ladder: HlsCheck) -> RenditionOutput:
    name = ladder.planned.spec.name
    folder = out / name
    files = tuple(
        LocalFile(path, rendition_key(vid, name, path.relative_to(folder).as_posix()))
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    )
    top = ladder.variants[0]
    rungs = [
        {
            "name": r.name,
            "width": v.width,
            "height": v.height,
            "bandwidth": v.bandwidth,
            "codecs": v.codecs,
            "playlist": v.uri,
            "duration": round(duration, 3),
        }
        for r, v, (_n, duration, _i) in zip(
            ladder.planned.rungs, ladder.variants, ladder.rungs, strict=True
        )
    ]
    details = {
        "width": top.width,
        "height": top.height,
        "bit_rate": top.bandwidth,
        "rungs": rungs,
        "segment_seconds": ladder.planned.spec.segment_seconds,
    }
    return RenditionOutput(
        name,
        rendition_key(vid, name, ladder.planned.spec.master),
        files,
        HLS_MIME,
        None,
        ladder.rungs[0][1],
        details,
    )


def _thumbnails(
    vid: int, out: Path, plan: EncodePlan, layout: stills.SpriteLayout | None
) -> ThumbnailOutput | None:
    folder = out / stills.THUMBS
    files: list[LocalFile] = []
    thumbs: list[tuple[str, float]] = []
    written = plan.selected_thumb_frames  # file number k holds frame written[k]
    for i, frame in enumerate(plan.thumb_frames):
        path = out / THUMB_FRAMES / f"{written.index(frame):03d}.jpg"
        if path.exists():
            key = rendition_key(vid, "thumbs", stills.thumbnail_name(i))
            files.append(LocalFile(path, key))
            thumbs.append((key, round(frame / float(plan.rate), 3)))
    sprites: list[str] = []
    vtt_key = None
    if layout is not None:
        for i in range(layout.sheets):
            path = folder / layout.sheet_name(i)
            if path.exists():
                key = rendition_key(vid, "thumbs", path.name)
                files.append(LocalFile(path, key))
                sprites.append(key)
        vtt = folder / stills.VTT
        if vtt.exists() and len(sprites) == layout.sheets:
            vtt_key = rendition_key(vid, "thumbs", stills.VTT)
            files.append(LocalFile(vtt, vtt_key))
    if not files:
        return None
    return ThumbnailOutput(
        tuple(files), tuple(thumbs), tuple(sprites), vtt_key, layout.to_dict() if layout else {}
    )


def collect_outputs(
    version_id: int,
    out: Path,
    plan: EncodePlan,
    pool: Executor,
    branding: BrandingInputs | None = None,
) -> Collected:
    """Probe every MP4 and HLS rung (in parallel on ``pool``); ``branding`` is what the
    encode was given (QC expects each profile's slate and closing card on top of the film)."""
    mp4 = {m.spec.name: pool.submit(probe_output, out / m.file) for m in plan.mp4}
    ladders = [pool.submit(_check_hls, out, h) for h in plan.hls]
    specs = [m.spec for m in plan.mp4] + [h.spec for h in plan.hls]
    cards = {s.name: card_seconds(s.branding, branding) for s in specs}
    return Collected(
        version_id, {k: f.result() for k, f in mp4.items()}, [f.result() for f in ladders], plan,
        cards={name: seconds for name, seconds in cards.items() if seconds},
    )  # fmt: skip
