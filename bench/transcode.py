"""Benchmark the transcoding pipeline against hand-written ffmpeg command lines.

Run from the repository root::

    .venv/bin/python bench/transcode.py [--seconds 60] [--runs 3]

The source (made once, cached in ``bench/.cache/``) is a ``--seconds`` long 1920x1080
25 fps H.264 High clip (``testsrc2`` with a little temporal noise, as a camera would
give, ~12 Mb/s, a keyframe every 2 s) with a 48 kHz stereo AAC tone.

Each run measures, in a rotating order, the wall time of:

* ``system``      the system's ingest-to-ready: a fresh embedded home (SQLite, local
                  storage), ``IngestService.ingest_file`` (copy + SHA-256 + probe), then
                  exactly what the Celery task runs: ``ProcessingService.begin``,
                  ``workers.pipeline.process_source`` and ``publish`` (every profile of
                  ``workers/profiles.toml``, poster, thumbnails, sprite + WebVTT, QC,
                  loudness), in this process.  The broker hand-off is left out (a few
                  milliseconds on Redis).  ``processing`` is the part from ``begin``;
* ``hand_all``    the same outputs from hand-written ffmpeg command lines (below): the
                  loudness measurement, ONE command for every rendition, the ten
                  thumbnails, the poster candidates, sprite cells and black/freeze
                  analysis, and the run making the sprite sheet and the poster;
* ``hand_ladder`` ONE hand-written command making the renditions only (broadcast,
                  playback, mobile, proxy MP4s and the web HLS ladder) from one decode;
* ``per_profile`` the same renditions, one ffmpeg process per rendition (5 processes, one
                  after the other, each decoding the source).

and prints the medians and the three ratios of issue 3:

    (a) system / hand_all          target <= 1.05
    (b) per_profile / hand_ladder  target >= 1.15
    (c) processing / hand_ladder   target <= 1.10

``--branded`` measures instead (issue 14) the system's own one-decode command for the
renditions of ``workers/profiles.toml``, plain (``ladder``) and branded (``branded``: a
200x100 PNG logo with alpha on broadcast, playback and every web rung, Chinese subtitles
burned into playback, a cue every 2 s), and prints

    (d) branded / ladder           target <= 1.10

The hand-written lines use the same encoder settings as the shipped profiles and the
same filter graph shape (each size scaled from the next larger one), so (a) measures
what the system adds around ffmpeg and (c) what QC, thumbnails and loudness add.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mam import migrate  # noqa: E402
from mam.config import Settings  # noqa: E402
from mam.models import Version, VersionState  # noqa: E402
from mam.probe import probe  # noqa: E402
from mam.runtime import build_runtime  # noqa: E402
from mam.services.ingest import IngestService  # noqa: E402
from mam.services.processing import ProcessingService  # noqa: E402
from workers.ffmpeg.branding import Branding, BrandingInputs, LogoSpec, wrap_vtt  # noqa: E402
from workers.ffmpeg.commands import build_process_command  # noqa: E402
from workers.ffmpeg.plan import plan_encode  # noqa: E402
from workers.pipeline import process_source  # noqa: E402
from workers.profiles import load_profiles  # noqa: E402

CACHE = REPO / "bench" / ".cache"
FFMPEG = ["ffmpeg", "-hide_banner", "-nostats", "-loglevel", "error", "-y"]
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        "-g", "50", "-keyint_min", "50", "-sc_threshold", "0"]  # fmt: skip
AAC = ["-c:a", "aac", "-ac", "2", "-ar", "48000"]
MP4 = {  # name: (height, width, x264 profile, video, maxrate, bufsize, audio)
    "broadcast": (1080, 1920, "high", "8M", "10M", "16M", "192k"),
    "playback": (720, 1280, "main", "2500k", "3M", "5M", "128k"),
    "mobile": (360, 640, "main", "500k", "600k", "1M", "96k"),
    "proxy": (540, 960, "main", "1200k", "1800k", "2400k", "128k"),
}
RUNGS = [  # (height, width, x264 profile, video, maxrate, bufsize, audio)
    (1080, 1920, "high", "6000k", "6600k", "12M", "128k"),
    (720, 1280, "high", "3000k", "3300k", "6M", "128k"),
    (540, 960, "high", "2000k", "2200k", "4M", "128k"),
    (360, 640, "main", "730k", "800k", "1460k", "96k"),
]
STEREO = "aformat=sample_rates=48000:channel_layouts=stereo"


def make_source(seconds: int) -> Path:
    """Return the cached 1080p25 H.264/AAC source of ``seconds`` seconds."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"transcode-1080p25-{seconds}s.mp4"
    if not path.exists():
        print(f"making the {seconds} s 1080p source (once) ...", flush=True)
        tmp = path.with_suffix(".tmp.mp4")
        subprocess.run(
            [*FFMPEG, "-f", "lavfi", "-i",
             f"testsrc2=size=1920x1080:rate=25:duration={seconds},noise=alls=6:allf=t",
             "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
             "-c:v", "libx264", "-preset", "fast", "-profile:v", "high", "-b:v", "12M",
             "-maxrate", "15M", "-bufsize", "24M", "-g", "50", "-pix_fmt", "yuv420p",
             "-c:a", "aac", "-b:a", "192k", "-ac", "2", "-shortest", str(tmp)],
            check=True,
        )  # fmt: skip
        tmp.rename(path)
    return path


def _x264_out(profile: str, video: str, maxrate: str, bufsize: str, audio: str) -> list[str]:
    return [*X264, "-profile:v", profile, "-b:v", video, "-maxrate", maxrate,
            "-bufsize", bufsize, *AAC, "-b:a", audio]  # fmt: skip


def _hls_out(out: Path) -> list[str]:
    args = [*X264, *AAC]
    for i, (_h, _w, profile, video, maxrate, bufsize, audio) in enumerate(RUNGS):
        args += [f"-profile:v:{i}", profile, f"-b:v:{i}", video, f"-maxrate:v:{i}", maxrate,
                 f"-bufsize:v:{i}", bufsize, f"-b:a:{i}", audio]  # fmt: skip
    return [*args, "-f", "hls", "-hls_time", "6", "-hls_playlist_type", "vod",
            "-hls_list_size", "0", "-hls_flags", "independent_segments",
            "-hls_segment_filename", str(out / "web" / "%v" / "seg_%05d.ts"),
            "-master_pl_name", "master.m3u8", "-var_stream_map",
            " ".join(f"v:{i},a:{i},name:{h}p" for i, (h, *_r) in enumerate(RUNGS)),
            str(out / "web" / "%v" / "index.m3u8")]  # fmt: skip


# The hand-written one-decode graph: each picture size scaled from the next larger one.
LADDER = (
    "[0:v]scale=1920:1080,setsar=1,split=3[b][w0][d720];"
    "[d720]scale=1280:720,setsar=1,split=3[p][w1][d540];"
    "[d540]scale=960:540,setsar=1,split=3[x][w2][d360];"
    "[d360]scale=640:360,setsar=1,split=2[m][w3];"
)
# ... plus the poster candidates, sprite cells and black/freeze analysis branches.
LADDER_AND_MORE = (
    "[0:v]scale=1920:1080,setsar=1,split=3[b][w0][d720];"
    "[d720]scale=1280:720,setsar=1,split=3[p][w1][d540];"
    "[d540]scale=960:540,setsar=1,split=4[x][w2][pc][d360];"
    "[d360]scale=640:360,setsar=1,split=3[m][w3][d180];"
    "[d180]scale=320:180,setsar=1,split=3[qa][sc][th];"
    "[th]select='eq(n,0)+{thumbs}'[ths];"
    "[pc]select='eq(n,0)+between(t,{p0},{p1})*not(eq(n,0))*not(mod(n,{step}))'[pcs];"
    "[sc]fps=1,scale=160:90,setsar=1[cells];"
    "[qa]blackdetect=d=1:pix_th=0.1:pic_th=0.98,freezedetect=n=-60dB:d=2[qc];"
)
OUTPUTS = (
    ("b", "ab", "broadcast"),
    ("p", "ap", "playback"),
    ("m", "am", "mobile"),
    ("x", "ax", "proxy"),
)


def _renditions(out: Path) -> list[str]:
    """Return the output arguments of the four MP4s and the HLS ladder."""
    args: list[str] = []
    for picture, sound, name in OUTPUTS:
        args += [*_maps(picture, sound), *_x264_out(*MP4[name][2:]), str(out / f"{name}.mp4")]
    return [*args, *_maps("w0", "a0", "w1", "a1", "w2", "a2", "w3", "a3"), *_hls_out(out)]


def hand_ladder(source: Path, out: Path, seconds: int) -> None:
    """ONE hand-written command: the renditions only."""
    (out / "web").mkdir(parents=True, exist_ok=True)
    graph = LADDER + f"[0:a]{STEREO},asplit=8[ab][ap][am][ax][a0][a1][a2][a3]"
    _run([*FFMPEG, "-i", str(source), "-filter_complex", graph, *_renditions(out)])


def _maps(*labels: str) -> list[str]:
    return [arg for label in labels for arg in ("-map", f"[{label}]")]


def _run(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:12])} ... failed:\n{result.stderr[-2000:]}")
    return result.stderr


def hand_all(source: Path, out: Path, seconds: int) -> None:
    """Hand-written command lines for the same outputs as the system."""
    (out / "web").mkdir(parents=True, exist_ok=True)
    for sub in ("poster-candidates", "sprite-cells", "thumbs"):
        (out / sub).mkdir(exist_ok=True)
    # 1. loudness pass 1 and silence, on the sound only
    log = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(source), "-vn", "-af",
         f"{STEREO},silencedetect=n=-60dB:d=2,loudnorm=I=-23:TP=-1:LRA=20:print_format=json",
         "-f", "null", "-"], capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    m = json.loads(re.findall(r"\{[^{}]*\}", log)[-1])
    measured = (f"measured_I={m['input_i']}:measured_TP={m['input_tp']}:"
                f"measured_LRA={m['input_lra']}:measured_thresh={m['input_thresh']}:linear=true")  # fmt: skip
    # 2. every rendition, poster candidates, sprite cells and the analysis: one decode
    audio = (f"[0:a]{STEREO},asplit=2[e][w];"
             f"[e]loudnorm=I=-23:TP=-1:LRA=20:{measured},aresample=48000,"
             "asplit=4[ab][ap][am][ax];"
             f"[w]loudnorm=I=-16:TP=-1:LRA=20:{measured},aresample=48000,"
             "asplit=4[a0][a1][a2][a3]")  # fmt: skip
    step = max(1, int((0.5 - 0.1) * seconds * 25 / 50))
    thumbs = "+".join(f"eq(n,{int(seconds * (i + 0.5) / 10 * 25)})" for i in range(10))
    graph = LADDER_AND_MORE.format(p0=0.1 * seconds, p1=0.5 * seconds, step=step,
                                   thumbs=thumbs) + audio  # fmt: skip
    _run([*FFMPEG, "-i", str(source), "-filter_complex", graph, *_renditions(out),
          *_maps("pcs"), "-fps_mode", "vfr", "-q:v", "2",
          str(out / "poster-candidates" / "%03d.jpg"),
          *_maps("cells"), "-fps_mode", "vfr", "-q:v", "4", str(out / "sprite-cells" / "%05d.jpg"),
          *_maps("ths"), "-fps_mode", "vfr", "-start_number", "0", "-q:v", "3",
          str(out / "thumbs" / "thumb-%02d.jpg"),
          *_maps("qc"), "-f", "null", "-"])  # fmt: skip
    # 3. the sprite sheet and the poster, from the small JPEGs of the decode
    graph = ("[0:v]tile=10x10[sheet];[1:v]entropy,metadata=mode=select:"
             "key=lavfi.entropy.normalized_entropy.normal.Y:value=0.25:function=greater,"
             "thumbnail=n=50[poster]")  # fmt: skip
    _run([*FFMPEG,
          "-framerate", "1", "-i", str(out / "sprite-cells" / "%05d.jpg"),
          "-framerate", "1", "-start_number", "2", "-i", str(out / "poster-candidates" / "%03d.jpg"),
          "-filter_complex", graph,
          "-map", "[sheet]", "-fps_mode", "vfr", "-q:v", "4", str(out / "thumbs" / "sprite-%03d.jpg"),
          "-map", "[poster]", "-frames:v", "1", "-update", "1", "-q:v", "2",
          str(out / "thumbs" / "poster.jpg")])  # fmt: skip


def per_profile(source: Path, out: Path, seconds: int) -> None:
    """One ffmpeg process per rendition, each decoding the source."""
    (out / "web").mkdir(parents=True, exist_ok=True)
    for name, (height, width, *rest) in MP4.items():
        _run([*FFMPEG, "-i", str(source), "-vf", f"scale={width}:{height},setsar=1",
              "-af", STEREO, *_x264_out(*rest), str(out / f"{name}.mp4")])  # fmt: skip
    graph = ("[0:v]scale=1920:1080,setsar=1,split=2[w0][d720];"
             "[d720]scale=1280:720,setsar=1,split=2[w1][d540];"
             "[d540]scale=960:540,setsar=1,split=2[w2][d360];"
             f"[d360]scale=640:360,setsar=1[w3];[0:a]{STEREO},asplit=4[a0][a1][a2][a3]")  # fmt: skip
    _run([*FFMPEG, "-i", str(source), "-filter_complex", graph,
          *_maps("w0", "a0", "w1", "a1", "w2", "a2", "w3", "a3"), *_hls_out(out)])  # fmt: skip
    del seconds


def system(source: Path, out: Path, seconds: int) -> float:
    """Ingest and process in a fresh embedded home; return the processing part's time."""
    settings = Settings(home=out / "home", work_dir=out / "work").resolved()
    migrate.upgrade(settings.database_url)  # untimed: the database exists in a real system
    rt = build_runtime(settings)
    try:
        with rt.db.session() as s:
            vid = (
                IngestService(s, rt.storage)
                .ingest_file(source, programme="基准", title=f"{seconds} s")
                .version.id
            )
            begun = time.perf_counter()
            service = ProcessingService(s, rt.storage)
            plan = service.begin(vid, worker="bench")
            assert plan is not None
            process_source(
                plan,
                rt.storage,
                settings,
                on_progress=lambda p: service.record_progress(plan.job_id, p.percent, p.eta),
                publish=lambda result: service.publish(plan, result),
            )
            processing = time.perf_counter() - begun
            s.expire_all()
            assert s.get_one(Version, vid).state == VersionState.READY
        return processing
    finally:
        rt.close()


def _brand_files(seconds: int) -> tuple[Path, Path]:
    """Return the cached logo (PNG, alpha) and a WebVTT track with a Chinese cue every 2 s."""
    logo, track = CACHE / "logo.png", CACHE / f"captions-{seconds}s.vtt"
    if not logo.exists():
        _run([*FFMPEG, "-f", "lavfi", "-i", "color=c=red@0.6:s=200x100,format=rgba",
              "-frames:v", "1", str(logo)])  # fmt: skip
    cues = [
        f"{i // 60:02d}:{i % 60:02d}.000 --> {(i + 1) // 60:02d}:{(i + 1) % 60:02d}.800\n"
        f"第{i // 2 + 1}句：学习贯彻党的方针政策，推进乡村振兴，建设美丽家园。"
        for i in range(0, seconds - 1, 2)
    ]
    track.write_text("WEBVTT\n\n" + "\n\n".join(cues) + "\n", encoding="utf-8")
    return logo, track


def _ladder(source: Path, out: Path, seconds: int, *, branded: bool) -> None:
    """The system's one-decode command for the renditions, plain or branded."""
    info = probe(source)
    renditions = [replace(r, branding=None) for r in load_profiles().renditions]
    inputs = None
    if branded:
        logo_file, track = _brand_files(seconds)
        logo = LogoSpec(str(logo_file), "top-right", 0.04, 0.10, 0.8)
        brand = {"broadcast": Branding(logo=logo), "web": Branding(logo=logo),
                 "playback": Branding(logo=logo, captions="zh")}  # fmt: skip
        renditions = [replace(r, branding=brand.get(r.name)) for r in renditions]
        wrapped = out / "captions.vtt"
        wrapped.write_text(wrap_vtt(track.read_text("utf-8"), 1920, 1080, 0.06), "utf-8")
        inputs = BrandingInputs(subtitles={"zh": str(wrapped)})
    plan = plan_encode(info, renditions)
    for h in plan.hls:
        (out / h.spec.name).mkdir(parents=True, exist_ok=True)
    argv = build_process_command(str(source), info, str(out), plan, branding=inputs)
    _run(argv)


def ladder(source: Path, out: Path, seconds: int) -> None:
    _ladder(source, out, seconds, branded=False)


def branded(source: Path, out: Path, seconds: int) -> None:
    _ladder(source, out, seconds, branded=True)


def _cpu() -> float:
    """Return the CPU seconds used so far by this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _ratios(med: dict[str, float]) -> list[tuple[str, float, str]]:
    if "branded" in med:
        return [("(d) branded ladder (logo + burned captions) / plain ladder",
                 med["branded"] / med["ladder"], "<= 1.10")]  # fmt: skip
    return [
        ("(a) system ingest-to-ready / hand-written same outputs",
         med["system"] / med["hand_all"], "<= 1.05"),
        ("(b) one process per rendition / one-decode ladder",
         med["per_profile"] / med["hand_ladder"], ">= 1.15"),
        ("(c) whole processing / renditions-only hand-written",
         med["processing"] / med["hand_ladder"], "<= 1.10"),
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=60, help="source length (default 60)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement (>= 3)")
    parser.add_argument(
        "--branded",
        action="store_true",
        help="measure the branded ladder against the plain one (issue 14)",
    )
    args = parser.parse_args()
    if args.runs < 3:
        parser.error("--runs must be at least 3 (medians of at least 3 runs)")
    source = make_source(args.seconds)
    source.read_bytes()  # warm the page cache
    scratch = CACHE / "tmp"
    names: tuple[str, ...] = ("system", "processing", "hand_all", "hand_ladder", "per_profile")
    steps: list[tuple[str, Callable[[Path, Path, int], float | None]]] = [
        ("system", system), ("hand_all", hand_all), ("hand_ladder", hand_ladder),
        ("per_profile", per_profile),
    ]  # fmt: skip
    if args.branded:
        names = ("ladder", "branded")
        steps = [("ladder", ladder), ("branded", branded)]
    wall: dict[str, list[float]] = {k: [] for k in names}
    cpu: dict[str, list[float]] = {k: [] for k in names}
    load = os.getloadavg()[0]
    for run in range(args.runs):
        order = steps[run % len(steps) :] + steps[: run % len(steps)]  # rotate the order
        for name, step in order:
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir(parents=True)
            out = Path(tempfile.mkdtemp(dir=scratch))
            subprocess.run(["sync"], check=False)
            cpu_before, started = _cpu(), time.perf_counter()
            processing = step(source, out, args.seconds)
            elapsed, used = time.perf_counter() - started, _cpu() - cpu_before
            wall[name].append(elapsed)
            cpu[name].append(used)
            if name == "system":
                assert processing is not None
                wall["processing"].append(processing)
                cpu["processing"].append(used)  # ingest's CPU is a rounding error here
            print(f"run {run + 1}: {name:<12} {elapsed:7.2f} s wall {used:8.2f} s CPU"
                  + (f"  (processing {processing:.2f} s)" if name == "system" else ""),
                  flush=True)  # fmt: skip
    shutil.rmtree(scratch, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in wall.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    print(f"\n{args.seconds} s 1920x1080 25 fps H.264 source, medians of {args.runs} runs "
          f"({os.cpu_count()} CPUs, load average {load:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after):")  # fmt: skip
    for name in names:
        print(f"  {name:<12} {med[name]:7.2f} s wall ({args.seconds / med[name]:.2f}x real time)"
              f"  {med_cpu[name]:8.2f} s CPU")  # fmt: skip
    print("\nratios of wall time (the targets), and of CPU time (immune to other load):")
    for (label, value, target), (_l, value_cpu, _t) in zip(
        _ratios(med), _ratios(med_cpu), strict=True
    ):
        limit = float(target[3:])
        ok = value <= limit if target.startswith("<=") else value >= limit
        print(f"  {label:<56} {value:5.3f}  target {target}  {'met' if ok else 'NOT met'}"
              f"   (CPU {value_cpu:5.3f})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
