"""Generate small test media with ffmpeg's lavfi sources (testsrc2 + sine).

Every ``make_*`` function takes the output path, writes the file (overwriting it) and
returns it as a ``Path``.  Clips are 1-3 s and small so a test module can build
all of them in a couple of seconds.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import tempfile
from pathlib import Path

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"


def _ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly and fail loudly (with its stderr) when it fails."""
    argv = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{result.stderr}")


def _video_src(size: str, rate: int | float | str, seconds: float) -> list[str]:
    """Return input args for a moving test pattern."""
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]


def _audio_src(seconds: float, rate: int = 48000, layout: str = "stereo") -> list[str]:
    """Return input args for a 440 Hz tone with the given channel layout."""
    graph = f"sine=frequency=440:sample_rate={rate}:duration={seconds},"
    graph += f"aformat=channel_layouts={layout}"
    return ["-f", "lavfi", "-i", graph]


def _h264(preset: str = "ultrafast") -> list[str]:
    """Return encoder args for small, widely decodable H.264."""
    return ["-c:v", "libx264", "-preset", preset, "-pix_fmt", "yuv420p", "-b:v", "300k"]


def make_clip(
    path: str | os.PathLike[str],
    seconds: float = 2,
    *,
    size: str = "320x240",
    rate: int | float = 25,
    audio: bool = True,
    codec: str = "libx264",
) -> Path:
    """Write a progressive clip (audio codec chosen to suit the container)."""
    out = Path(path)
    args = _video_src(size, rate, seconds)
    if audio:
        args += _audio_src(seconds)
    if codec == "libx264":
        args += _h264()
    else:
        args += ["-c:v", codec, "-pix_fmt", "yuv420p", "-b:v", "300k"]
        if codec.startswith("libvpx"):
            args += ["-deadline", "realtime", "-cpu-used", "8"]
    if audio:
        webm_like = out.suffix.lower() in (".webm", ".ogg", ".ogv")
        args += ["-c:a", "libopus" if webm_like else "aac", "-b:a", "64k", "-shortest"]
    _ffmpeg(*args, str(out))
    return out


def make_interlaced_mpeg2_ts(path: str | os.PathLike[str]) -> Path:
    """Write 1 s of 1920x1080 top-field-first interlaced MPEG-2 + MP2 in MPEG-TS."""
    out = Path(path)
    _ffmpeg(
        *_video_src("1920x1080", 25, 1),
        *_audio_src(1),
        "-vf", "setfield=tff",
        "-flags", "+ilme+ildct", "-top", "1",
        "-c:v", "mpeg2video", "-b:v", "2M", "-maxrate", "4M", "-bufsize", "2M", "-g", "12",
        "-c:a", "mp2", "-b:a", "128k",
        "-f", "mpegts", str(out),
    )  # fmt: skip
    return out


def make_anamorphic_dvd(path: str | os.PathLike[str]) -> Path:
    """Write 1 s of PAL DVD-style MPEG-2 (720x576, SAR 64:45 = 16:9) with AC-3 in .mpg."""
    out = Path(path)
    _ffmpeg(
        *_video_src("720x576", 25, 1),
        *_audio_src(1),
        "-vf", "setsar=64/45",
        "-c:v", "mpeg2video", "-b:v", "1500k", "-maxrate", "3M", "-bufsize", "1835k",
        "-g", "12", "-aspect", "16:9",
        "-c:a", "ac3", "-b:a", "192k",
        "-f", "dvd", str(out),
    )  # fmt: skip
    return out


def _display_rotation_cw(path: Path) -> int:
    """Return the clockwise display rotation ffprobe sees in a file (0 when none)."""
    result = subprocess.run(
        [FFPROBE, "-v", "error", "-print_format", "json", "-show_streams",
         "-select_streams", "v:0", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    for stream in json.loads(result.stdout).get("streams", []):
        for side in stream.get("side_data_list", []):
            if "rotation" in side:
                return round(-float(side["rotation"])) % 360
    return 0


def make_rotated_phone(path: str | os.PathLike[str], rotation: int = 90) -> Path:
    """Write a 320x180 H.264 MP4 that must be turned ``rotation`` degrees clockwise.

    The frames are landscape, the display matrix makes players show them portrait
    (like a phone held upright).  How the CLI writes the matrix changed between
    ffmpeg releases (``-display_rotation`` in 6.0+, a legacy ``rotate`` tag whose
    sign flipped in 5.x), so each way is tried and the result is checked.
    """
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "plain.mp4"
        make_clip(plain, seconds=1, size="320x180", rate=30)
        return _rotated(plain, Path(path), rotation)


def _rotated(plain: Path, out: Path, rotation: int) -> Path:
    """Copy ``plain`` into ``out`` with a display matrix turning it ``rotation`` degrees
    clockwise (each way this ffmpeg may know is tried, and the result checked)."""
    attempts = [
        ["-display_rotation:v:0", str(-rotation), "-i", str(plain)],
        ["-i", str(plain), "-metadata:s:v:0", f"rotate={(360 - rotation) % 360}"],
        ["-i", str(plain), "-metadata:s:v:0", f"rotate={rotation}"],
    ]
    for args in attempts:
        try:
            _ffmpeg(*args, "-c", "copy", str(out))
        except RuntimeError:
            continue  # option unknown to this ffmpeg
        if _display_rotation_cw(out) == rotation % 360:
            return out
    raise RuntimeError(f"this ffmpeg cannot write a {rotation} degree display matrix")


def make_hdr_phone(
    path: str | os.PathLike[str], transfer: str = "arib-std-b67", rotation: int = 90
) -> Path:
    """Write what a current phone records by default: 1 s of 10-bit HEVC in BT.2020 with
    an HDR transfer (HLG; ``smpte2084`` for PQ), AAC sound, held upright (rotated)."""
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "plain.mp4"
        _ffmpeg(
            *_video_src("320x180", 30, 1), *_audio_src(1),
            "-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le",
            "-x265-params", f"log-level=error:colorprim=bt2020:transfer={transfer}:"
            "colormatrix=bt2020nc",
            "-color_primaries", "bt2020", "-color_trc", transfer, "-colorspace", "bt2020nc",
            "-tag:v", "hvc1", "-c:a", "aac", "-b:a", "64k", "-shortest", str(plain),
        )  # fmt: skip
        return _rotated(plain, Path(path), rotation)


def make_dual_mono_master(path: str | os.PathLike[str]) -> Path:
    """Write a broadcast-style master: 2 s of video with two mono PCM tracks, CH1 a tone
    (the left side of the programme's stereo), CH2 silence (its right side)."""
    out = Path(path)
    _ffmpeg(
        *_video_src("320x240", 25, 2),
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2",
        "-f", "lavfi", "-i", "anullsrc=channel_layout=mono:sample_rate=48000",
        "-map", "0:v", "-map", "1:a", "-map", "2:a", "-t", "2", *_h264(),
        "-c:a", "pcm_s24le", str(out),
    )  # fmt: skip
    return out


def make_surround(path: str | os.PathLike[str]) -> Path:
    """Write a 1 s H.264 MP4 with 5.1 (6 channel) AAC audio."""
    out = Path(path)
    _ffmpeg(
        *_video_src("320x240", 25, 1),
        *_audio_src(1, layout="5.1"),
        *_h264(),
        "-c:a", "aac", "-b:a", "192k", "-shortest", str(out),
    )  # fmt: skip
    return out


def make_webm_no_audio(path: str | os.PathLike[str]) -> Path:
    """Write a 1 s VP9 WebM without any audio stream."""
    out = Path(path)
    _ffmpeg(
        *_video_src("320x240", 25, 1),
        "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k",
        str(out),
    )  # fmt: skip
    return out


def make_vfr(path: str | os.PathLike[str]) -> Path:
    """Write an MP4 whose first second runs at 30 fps and the rest at 10 fps."""
    out = Path(path)
    _ffmpeg(
        *_video_src("320x240", 30, 1.5),
        *_audio_src(2.5),
        "-vf", "setpts='if(lt(N,30),N/30,1+(N-30)/10)/TB'",
        "-fps_mode", "vfr",
        *_h264(),
        "-c:a", "aac", "-b:a", "64k", str(out),
    )  # fmt: skip
    return out


def make_audio_with_cover(path: str | os.PathLike[str]) -> Path:
    """Write a 1 s MP3 carrying a JPEG cover (an ``attached_pic`` video stream)."""
    out = Path(path)
    _ffmpeg(
        *_audio_src(1),
        "-f", "lavfi", "-i", "testsrc2=size=160x160:rate=1:duration=1",
        "-map", "0:a", "-map", "1:v", "-frames:v", "1",
        "-c:a", "libmp3lame", "-b:a", "64k", "-c:v", "mjpeg",
        "-disposition:v:0", "attached_pic", str(out),
    )  # fmt: skip
    return out


def make_text_file_as_mp4(path: str | os.PathLike[str]) -> Path:
    """Write a plain text file that merely has a video file name."""
    out = Path(path)
    out.write_text("Lesson notes: this is not a video.\n" * 40, encoding="utf-8")
    return out


def make_truncated_mp4(path: str | os.PathLike[str]) -> Path:
    """Write the first half of an MP4 whose moov atom is at the end (so it is lost)."""
    out = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        whole = make_clip(Path(tmp) / "whole.mp4", seconds=2)
        data = whole.read_bytes()
    if data.find(b"moov") < len(data) // 2:
        raise RuntimeError("expected the moov atom after the media data")
    out.write_bytes(data[: len(data) // 2])
    return out


def make_empty(path: str | os.PathLike[str]) -> Path:
    """Write a 0 byte file."""
    out = Path(path)
    out.write_bytes(b"")
    return out


def make_black_start(path: str | os.PathLike[str], seconds: float = 4, black: float = 1.5) -> Path:
    """Write an H.264/AAC MP4 whose first ``black`` seconds are black (a leader or fade)."""
    out = Path(path)
    graph = (
        f"color=black:size=320x240:rate=25:duration={black}[b];"
        f"testsrc2=size=320x240:rate=25:duration={seconds - black}[t];[b][t]concat=n=2:v=1:a=0"
    )
    _ffmpeg(
        "-f", "lavfi", "-i", graph, *_audio_src(seconds), *_h264(),
        "-c:a", "aac", "-b:a", "64k", "-shortest", str(out),
    )  # fmt: skip
    return out


def make_huge_frame_header(path: str | os.PathLike[str]) -> Path:
    """Write an MJPEG AVI whose headers claim 16000x16000 frames (the data is 64x64).

    A decoder believing it would allocate about 384 MB per frame: the pipeline must
    refuse the file from its probe before ffmpeg starts.
    """
    out = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "small.avi"
        _ffmpeg(*_video_src("64x64", 25, 1), "-c:v", "mjpeg", "-q:v", "5", str(small))
        data = bytearray(small.read_bytes())
    start_of_frame = b"\xff\xc0\x00\x11\x08\x00\x40\x00\x40"  # SOF0, 8 bit, 64x64
    data = bytearray(bytes(data).replace(start_of_frame, start_of_frame[:5] + b"\x3e\x80" * 2))
    avih, strf = data.index(b"avih"), data.index(b"strf")
    struct.pack_into("<II", data, avih + 8 + 32, 16000, 16000)  # main header dwWidth/dwHeight
    struct.pack_into("<ii", data, strf + 12, 16000, 16000)  # BITMAPINFOHEADER biWidth/biHeight
    out.write_bytes(bytes(data))
    return out


def make_truncated_ts(path: str | os.PathLike[str], keep: float = 0.6) -> Path:
    """Write the first ``keep`` of an interlaced MPEG-2 transport stream, cut mid-packet."""
    out = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        whole = make_interlaced_mpeg2_ts(Path(tmp) / "whole.ts")
        data = whole.read_bytes()
    out.write_bytes(data[: int(len(data) * keep) + 100])  # +100: not on a packet boundary
    return out


def _has_encoder(name: str) -> bool:
    """Return True when this ffmpeg has the encoder ``name``."""
    result = subprocess.run(
        [FFMPEG, "-hide_banner", "-h", f"encoder={name}"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    return result.returncode == 0 and "is not recognized" not in result.stdout


def _mux_picture_late(elementary: Path, out: Path, muxer: str, video_delay: float) -> None:
    """Remux ``elementary`` (video + audio) into an MPEG program/system stream whose
    streams start at 0.233 s (the muxer's delay), the picture ``video_delay`` later."""
    _ffmpeg(
        "-itsoffset", f"{video_delay:g}", "-i", str(elementary), "-i", str(elementary),
        "-map", "0:v", "-map", "1:a", "-c", "copy",
        "-muxdelay", "0.233", "-muxpreload", "0.233",
        "-f", muxer, str(out),
    )  # fmt: skip


def make_dvd_menu_ps(path: str | os.PathLike[str], video_delay: float = 0.1) -> Path:
    """Write a DVD-menu style MPEG-2 program stream shorter than a second.

    NTSC 720x480 MPEG-2 (27 frames, 0.9 s) and 0.54 s of AC-3: the sound starts at
    0.233 s, the picture ``video_delay`` later, and the sound ends first.  (The streams
    are encoded into Matroska first so that the remux keeps their timestamps.)
    """
    out = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        elementary = Path(tmp) / "menu.mkv"
        _ffmpeg(
            *_video_src("720x480", "30000/1001", 0.9),
            *_audio_src(0.54),
            "-c:v", "mpeg2video", "-b:v", "4M", "-maxrate", "8M", "-bufsize", "1835k",
            "-g", "15", "-aspect", "4:3",
            "-c:a", "ac3", "-b:a", "192k",
            str(elementary),
        )  # fmt: skip
        _mux_picture_late(elementary, out, "vob", video_delay)
    return out


def make_mpeg1_system(
    path: str | os.PathLike[str], seconds: float = 12, video_delay: float = 0.134
) -> Path:
    """Write a VCD-style MPEG-1 system stream: NTSC 352x240 mpeg1video with B-frames and
    MP3 at 44.1 kHz (mp2 when this ffmpeg has no MP3 encoder); the sound starts at
    0.233 s, the picture ``video_delay`` later."""
    out = Path(path)
    audio = "libmp3lame" if _has_encoder("libmp3lame") else "mp2"
    with tempfile.TemporaryDirectory() as tmp:
        elementary = Path(tmp) / "vcd.mkv"
        _ffmpeg(
            *_video_src("352x240", "30000/1001", seconds),
            *_audio_src(seconds, rate=44100),
            "-c:v", "mpeg1video", "-b:v", "1150k", "-g", "18", "-bf", "2",
            "-c:a", audio, "-b:a", "128k",
            str(elementary),
        )  # fmt: skip
        _mux_picture_late(elementary, out, "mpeg", video_delay)
    return out


def make_audio_only(path: str | os.PathLike[str]) -> Path:
    """Write 2 s of AAC audio in an M4A file (no video stream at all)."""
    out = Path(path)
    _ffmpeg(*_audio_src(2), "-c:a", "aac", "-b:a", "64k", str(out))
    return out
