"""The one-decode command: every rendition, the still-image sources and the video analysis.

``workers.ffmpeg.plan.plan_encode`` decides, from the probe and the profiles, what comes
out and at which size; ``build_process_command`` turns that plan into ONE ffmpeg
invocation that decodes the source once and fans the frames out with ``split``:

    source -> [bwdif/idet] -> [fps] -> scale 1080 -> split -> broadcast, web 1080p, ...
                                          `-> scale 720 -> split -> playback, web 720p, ...
                                               `-> ... (each size scaled from the next
                                                   larger one) -> analysis size ->
                                                   blackdetect, freezedetect; sprite cells

Audio is downmixed to stereo 48 kHz once, then normalised once per loudness target
(pass 2 of loudnorm with pass 1's figures) and split to the outputs that use it.

Still images come out of the same decode as numbered JPEGs: the evenly spaced
thumbnails (exact frames, normalised like the renditions), the poster candidates (frames
sampled across a window of the film) and the sprite cells (one every ``interval``
seconds); a later, tiny run turns the last two into the poster and the sprite sheets
(see ``stills``).  Every output gets a frame at once, so ffmpeg, which
reports progress only after every output has started, reports it from the start.

Everything here is pure: it builds argument lists and plans, it runs nothing.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path, PurePath
from typing import Any

import ffmpeg

from mam.errors import InvalidMedia
from mam.messages import media
from mam.probe import MediaInfo
from workers.ffmpeg.analysis import LoudnessMeasurement, loudnorm_linear_options
from workers.ffmpeg.branding import Branding, BrandingInputs, brand_picture, resolve, with_cards
from workers.ffmpeg.normalise import (
    JOIN_PAIR,
    SILENCE,
    STEREO,
    align_sound_filters,
    constant_frame_rate,
    deinterlace_filter,
    gop_frames,
    picture_seconds,
    rate_text,
    stereo_pair,
    tone_map_filters,
)
from workers.ffmpeg.plan import CANDIDATES, CELLS, THUMB_FRAMES, EncodePlan, PlannedHls
from workers.ffmpeg.specs import (
    Mp4Rendition,
    PosterSpec,
)

GLOBAL_ARGS = ("-hide_banner", "-nostats", "-loglevel", "level+info", "-progress", "pipe:1", "-y")


def _branches(stream: Any, count: int, splitter: str) -> list[Any]:
    """Return ``count`` copies of a stream (through split/asplit when more than one)."""
    if count == 1:
        return [stream]
    node = stream.split() if splitter == "split" else stream.asplit()
    return [node[i] for i in range(count)]


def _x264_options(preset: str, gop: int, threads: int) -> dict[str, Any]:
    """Return the H.264/AAC options every video output shares."""
    options: dict[str, Any] = {
        "c:v": "libx264",
        "preset": preset,
        "pix_fmt": "yuv420p",
        # A keyframe exactly every GOP, never on scene cuts: aligned segments and seeks.
        "g": gop,
        "keyint_min": gop,
        "sc_threshold": 0,
        "c:a": "aac",
        "ac": 2,
        "max_muxing_queue_size": 1024,
    }
    if threads:
        options["threads"] = threads
    return options


def _mp4_options(r: Mp4Rendition, gop: int, threads: int) -> dict[str, Any]:
    """Return the ffmpeg output options of one MP4 rendition."""
    options = _x264_options(r.preset, gop, threads)
    options.update(
        {"format": "mp4", "profile:v": r.h264_profile, "b:a": r.audio_bitrate, "ar": r.audio_rate}
    )
    if r.faststart:
        options["movflags"] = "+faststart"
    if r.crf is not None:
        options["crf"] = r.crf
    else:
        options["b:v"] = r.video_bitrate
    if r.maxrate:
        options["maxrate"] = r.maxrate
    if r.bufsize:
        options["bufsize"] = r.bufsize
    return options


def _hls_options(h: PlannedHls, outdir: str, gop: int, threads: int) -> dict[str, Any]:
    """Return the ffmpeg output options of one HLS ladder (per-variant options by index)."""
    spec = h.spec
    options = _x264_options(spec.preset, gop, threads)
    options.update(
        {
            "format": "hls",
            "ar": spec.audio_rate,
            "hls_time": f"{spec.segment_seconds:g}",
            "hls_playlist_type": "vod",
            "hls_list_size": 0,
            "hls_segment_type": "mpegts",
            "hls_flags": "independent_segments",
            "hls_segment_filename": str(Path(outdir) / spec.name / "%v" / "seg_%05d.ts"),
            "master_pl_name": spec.master,
            "var_stream_map": " ".join(f"v:{i},a:{i},name:{r.name}" for i, r in enumerate(h.rungs)),
        }
    )
    for i, rung in enumerate(h.rungs):
        options[f"b:v:{i}"] = rung.spec.video_bitrate
        options[f"profile:v:{i}"] = rung.spec.h264_profile
        options[f"b:a:{i}"] = rung.spec.audio_bitrate
        if rung.spec.maxrate:
            options[f"maxrate:v:{i}"] = rung.spec.maxrate
        if rung.spec.bufsize:
            options[f"bufsize:v:{i}"] = rung.spec.bufsize
    return options


def _poster_select(poster: PosterSpec, rate: Fraction, duration: float) -> str:
    """Return the select expression of the poster candidates: the first frame (so the
    output starts at once; it is not a candidate) and frames sampled in the window."""
    start, end = poster.window_start * duration, poster.window_end * duration
    step = max(1, math.floor((end - start) * float(rate) / poster.candidates))
    return f"eq(n,0)+between(t,{start:.3f},{end:.3f})*not(eq(n,0))*not(mod(n,{step}))"


def _picture_users(plan: EncodePlan) -> dict[tuple[int, int], list[str]]:
    """Return who needs which picture size (rendition legs, poster, analysis, cells)."""
    users: dict[tuple[int, int], list[str]] = {}
    for m in plan.mp4:
        users.setdefault((m.width, m.height), []).append(f"mp4:{m.spec.name}")
    for h in plan.hls:
        for i, rung in enumerate(h.rungs):
            users.setdefault((rung.width, rung.height), []).append(f"hls:{h.spec.name}:{i}")
    if plan.poster_size:
        users.setdefault(plan.poster_size, []).append("poster")
    if plan.analysis_size:
        users.setdefault(plan.analysis_size, []).append("analysis")
    if plan.thumb_size and plan.thumb_frames:
        users.setdefault(plan.thumb_size, []).append("thumbs")
    if plan.cell_size:
        smallest = min(users, key=lambda s: s[0] * s[1]) if users else plan.cell_size
        users.setdefault(smallest, []).append("cells")
    return users


def _pictures(source_input: Any, info: MediaInfo, plan: EncodePlan) -> dict[str, Any]:
    """Return the normalised picture for every user, each size scaled from the next larger."""
    video = info.primary_video
    assert video is not None  # noqa: S101 - checked by the caller
    # The first frame is the outputs' first frame, at 0 (see normalise).
    picture = source_input[str(video.index)].filter("setpts", "PTS-STARTPTS")
    deinterlace = deinterlace_filter(video)
    if deinterlace and deinterlace["deint"] == "interlaced":
        picture = picture.filter("idet")  # field order unknown: let the pictures tell
    if deinterlace:
        picture = picture.filter("bwdif", **deinterlace)
    forced_rate = constant_frame_rate(video)
    if forced_rate is not None:
        picture = picture.filter("fps", fps=rate_text(forced_rate))
    for name, options in tone_map_filters(video):  # HDR (HLG, PQ) to SDR BT.709
        picture = picture.filter(name, **options)
    users = _picture_users(plan)
    legs: dict[str, Any] = {}
    sizes = sorted(users, key=lambda s: (s[1], s[0]), reverse=True)
    for n, size in enumerate(sizes):
        scaled = picture.filter("scale", size[0], size[1]).filter("setsar", "1")
        more = n + 1 < len(sizes)
        copies = _branches(scaled, len(users[size]) + more, "split")
        legs.update(zip(users[size], copies, strict=False))
        picture = copies[-1]
    return legs


def _sounds(
    source_input: Any, info: MediaInfo, plan: EncodePlan, measured: LoudnessMeasurement | None
) -> dict[str, Any]:
    """Return the stereo, loudness-normalised sound for every MP4 and HLS rung."""
    audio = info.primary_audio
    pair = stereo_pair(info)
    if audio is None:
        sound = ffmpeg.input(SILENCE, format="lavfi", t=f"{picture_seconds(info):.6f}")["a"]
    else:
        if pair is not None:  # CH1/CH2 of a broadcast master: left and right
            left, right = (source_input[str(a.index)] for a in pair)
            sound = ffmpeg.filter([left, right], "join", **JOIN_PAIR)
        else:
            sound = source_input[str(audio.index)]
        sound = sound.filter("aformat", **STEREO)
        for name, options in align_sound_filters(info):
            sound = sound.filter(name, **options)
    targets = plan.loudness_targets
    takers = {t: [m.spec.name for m in plan.mp4 if m.spec.loudness == t] for t in targets}
    for h in plan.hls:
        takers[h.spec.loudness] += [f"{h.spec.name}:{i}" for i in range(len(h.rungs))]
    normalise = audio is not None and measured is not None and not measured.is_silent
    sounds: dict[str, Any] = {}
    copies = _branches(sound, len(targets), "asplit")
    for i, (target, copy) in enumerate(zip(targets, copies, strict=True)):
        leg = copy
        if normalise:
            assert measured is not None  # noqa: S101 - for mypy
            leg = leg.filter(f"loudnorm@t{i}", **loudnorm_linear_options(target, measured))
            leg = leg.filter("aresample", STEREO["sample_rates"])  # loudnorm may give 192k
        legs = _branches(leg, len(takers[target]), "asplit")
        sounds.update(zip(takers[target], legs, strict=True))
    return sounds


def _jpegs(stream: Any, directory: Path, digits: int, quality: int, **extra: Any) -> Any:
    """Return an output writing each frame of ``stream`` as a numbered JPEG in ``directory``."""
    pattern = str(directory / f"%0{digits}d.jpg")
    return ffmpeg.output(
        stream, pattern, format="image2", fps_mode="vfr", **{"q:v": quality}, **extra
    )


def _branded(
    plan: EncodePlan,
    legs: dict[str, Any],
    sounds: dict[str, Any] | None,
    inputs: BrandingInputs | None,
) -> None:
    """Lay each branded profile's logo, captions and cards on its legs (in place);
    ``sounds`` None: the pictures only, without cards (a chunk of the segment ladder)."""
    jobs: list[tuple[str, str, Branding, tuple[int, int]]] = []
    for m in plan.mp4:
        if b := resolve(m.spec.branding, inputs):
            jobs.append((f"mp4:{m.spec.name}", m.spec.name, b, (m.width, m.height)))
    for h in plan.hls:
        if b := resolve(h.spec.branding, inputs):
            for i, r in enumerate(h.rungs):
                size = (r.width, r.height)
                jobs.append((f"hls:{h.spec.name}:{i}", f"{h.spec.name}:{i}", b, size))
    if not jobs:
        return
    given = inputs or BrandingInputs()
    users: dict[str, int] = {}
    for _, _, b, _ in jobs:
        if b.logo:
            users[b.logo.path] = users.get(b.logo.path, 0) + 1
    logos = {path: _branches(ffmpeg.input(path)["v"], n, "split") for path, n in users.items()}
    for leg, sound, b, size in jobs:
        logo = logos[b.logo.path].pop() if b.logo else None
        picture = brand_picture(legs[leg], b, given, size, logo)
        if sounds is None:
            legs[leg] = picture
            continue
        legs[leg], sounds[sound] = with_cards(
            picture, sounds[sound], b, given, size, rate_text(plan.rate)
        )


def build_process_command(
    source: str,
    info: MediaInfo,
    outdir: str,
    plan: EncodePlan,
    *,
    measured: LoudnessMeasurement | None = None,
    threads: int = 0,
    branding: BrandingInputs | None = None,
) -> list[str]:
    """Return the argv of one ffmpeg run writing everything ``plan`` asks for.

    Profiles with branding get it on their legs (``workers.ffmpeg.branding``), with this
    film's subtitle files, slate lines and logo override from ``branding``.

    Loudness target ``i`` of ``plan.loudness_targets`` is normalised by the filter
    named ``loudnorm@t<i>`` (its JSON summary tells the result and the mode).
    """
    if info.primary_video is None:
        raise InvalidMedia(media.NO_VIDEO, params={"file": PurePath(source).name})
    if not (plan.mp4 or plan.hls or plan.poster or plan.sprite or plan.qc):
        raise ValueError("nothing to produce")
    out = Path(outdir)
    source_input = ffmpeg.input(source)
    legs = _pictures(source_input, info, plan)
    sounds = _sounds(source_input, info, plan, measured) if plan.mp4 or plan.hls else {}
    _branded(plan, legs, sounds, branding)
    outputs = []
    for m in plan.mp4:
        options = _mp4_options(m.spec, gop_frames(plan.rate, m.spec.gop_seconds), threads)
        outputs.append(
            ffmpeg.output(
                legs[f"mp4:{m.spec.name}"], sounds[m.spec.name], str(out / m.file), **options
            )
        )
    for h in plan.hls:
        streams = []
        for i in range(len(h.rungs)):
            streams += [legs[f"hls:{h.spec.name}:{i}"], sounds[f"{h.spec.name}:{i}"]]
        options = _hls_options(h, outdir, gop_frames(plan.rate, h.spec.gop_seconds), threads)
        playlists = str(out / h.spec.name / "%v" / "index.m3u8")
        outputs.append(ffmpeg.output(*streams, playlists, **options))
    if plan.poster:
        select = _poster_select(plan.poster, plan.rate, info.duration)
        outputs.append(_jpegs(legs["poster"].filter("select", select), out / CANDIDATES, 3, 2))
    if plan.thumb_frames:
        frames = "+".join(f"eq(n,{n})" for n in plan.selected_thumb_frames)
        selected = legs["thumbs"].filter("select", frames)
        outputs.append(_jpegs(selected, out / THUMB_FRAMES, 3, 3, start_number=0))
    if plan.sprite and plan.cell_size:
        cells = (
            legs["cells"]
            .filter("fps", fps=f"1/{plan.sprite_interval:g}")
            .filter("scale", plan.cell_size[0], plan.cell_size[1])
            .filter("setsar", "1")
        )
        outputs.append(_jpegs(cells, out / CELLS, 5, 4))
    if plan.qc:
        qc = plan.qc
        checked = (
            legs["analysis"]
            .filter(
                "blackdetect",
                d=f"{qc.black_min_seconds:g}",
                pix_th=f"{qc.black_pixel_threshold:g}",
                pic_th=f"{qc.black_picture_ratio:g}",
            )
            .filter("freezedetect", n=f"{qc.freeze_noise_db:g}dB", d=f"{qc.freeze_min_seconds:g}")
        )
        outputs.append(ffmpeg.output(checked, "-", format="null"))
    argv: list[str] = ffmpeg.merge_outputs(*outputs).compile()
    return [argv[0], *GLOBAL_ARGS, *argv[1:]]
