"""What tone-mapping a phone's HDR video costs: the system's one-decode ladder on the same
10-bit HEVC pictures, tagged HDR (HLG) and tagged SDR (BT.709).

    .venv/bin/python bench/hdr.py [--seconds 20] [--runs 3]

The two sources (made once, cached in ``bench/.cache/``) hold identical pixels (a
1920x1080 25 fps ``testsrc2`` with noise, 10-bit HEVC, AAC); only their colour tags differ,
so the difference is the ``zscale``/``tonemap`` chain ``workers/ffmpeg/normalise.py`` adds
for HDR sources (see ``tone_map_filters``). Each run builds the renditions of
``workers/profiles.toml`` with ``build_process_command`` (as the worker does) from both,
in a rotating order, and the bench prints the medians and the ratio hdr / sdr of wall and
of CPU time (CPU is immune to other load on the machine).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from transcode import CACHE, FFMPEG, _cpu, _ladder

TAGS = {
    "hdr": ("bt2020", "arib-std-b67", "bt2020nc"),
    "sdr": ("bt709", "bt709", "bt709"),
}


def make_source(kind: str, seconds: int) -> Path:
    """Return the cached 10-bit HEVC source tagged ``kind`` (hdr: HLG, sdr: BT.709)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"hevc10-{kind}-{seconds}s.mp4"
    if not path.exists():
        primaries, transfer, matrix = TAGS[kind]
        print(f"making the {seconds} s {kind} source (once) ...", flush=True)
        subprocess.run(
            [*FFMPEG, "-f", "lavfi", "-i",
             f"testsrc2=size=1920x1080:rate=25:duration={seconds},noise=alls=6:allf=t",
             "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
             "-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le",
             "-x265-params", f"log-level=error:colorprim={primaries}:transfer={transfer}:"
             f"colormatrix={matrix}",
             "-color_primaries", primaries, "-color_trc", transfer, "-colorspace", matrix,
             "-c:a", "aac", "-shortest", str(path)],
            check=True,
        )  # fmt: skip
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=20, help="source length (default 20)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each (>= 3)")
    args = parser.parse_args()
    if args.runs < 3:
        parser.error("--runs must be at least 3 (medians of at least 3 runs)")
    sources = {kind: make_source(kind, args.seconds) for kind in TAGS}
    scratch = CACHE / "tmp-hdr"
    wall: dict[str, list[float]] = {k: [] for k in TAGS}
    cpu: dict[str, list[float]] = {k: [] for k in TAGS}
    load = os.getloadavg()[0]
    kinds = list(TAGS)
    for run in range(args.runs):
        for kind in kinds[run % 2 :] + kinds[: run % 2]:
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir(parents=True)
            out = Path(tempfile.mkdtemp(dir=scratch))
            cpu_before, started = _cpu(), time.perf_counter()
            _ladder(sources[kind], out, args.seconds, branded=False)
            elapsed, used = time.perf_counter() - started, _cpu() - cpu_before
            wall[kind].append(elapsed)
            cpu[kind].append(used)
            print(f"run {run + 1}: {kind} {elapsed:7.2f} s wall {used:8.2f} s CPU", flush=True)
    shutil.rmtree(scratch, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in wall.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    print(f"\n{args.seconds} s 1920x1080 25 fps 10-bit HEVC, medians of {args.runs} runs "
          f"({os.cpu_count()} CPUs, load average {load:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after):")  # fmt: skip
    for kind in TAGS:
        print(f"  {kind}  {med[kind]:7.2f} s wall  {med_cpu[kind]:8.2f} s CPU")
    print(f"  hdr / sdr: {med['hdr'] / med['sdr']:.3f} wall, "
          f"{med_cpu['hdr'] / med_cpu['sdr']:.3f} CPU (the cost of the tone mapping)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
