"""Benchmark ``mam ingest`` of a large media file against ``cp`` and ``sha256sum``.

Run from the repository root::

    .venv/bin/python bench/ingest.py [--size-mb 1024] [--runs 3]

What it does, in one run:

1. Makes (once, cached in ``bench/.cache/``) a media file of about ``--size-mb`` MiB
   that ffprobe and ``mam.probe.probe`` accept: ``testsrc2`` 1920x1080 as rawvideo
   (yuv420p, ~78 MiB/s of video at 25 fps) plus PCM audio, in a NUT container.
   Writing raw frames is fast, no encoding is needed.  A tiny clip of the same kind
   is made too, to measure the fixed cost of one ``mam ingest`` invocation.
2. Reads the file once so every measurement starts with it in the page cache (warm).
3. Runs ``--runs`` rounds.  Each round runs, in this order, each as a subprocess
   whose wall time and peak RSS (``ru_maxrss`` from ``os.wait4``) are measured:

   - ``cp SRC DEST``                      (no fsync: the data may still be dirty in RAM)
   - ``cp SRC DEST && sync DEST``         (cp plus an fsync of the copy, like ingest)
   - ``mam ingest SRC ...``               (fresh MAM home: new SQLite DB, local storage)
   - ``sha256sum SRC``                    (coreutils hashing alone)
   - ``python hashlib.sha256`` over SRC   (the hash ingest itself uses, 1 MiB reads)
   - ``mam ingest TINY ...``              (fixed cost: interpreter, imports, ffprobe, DB)

   Every destination (the cp copy, the MAM home) lives under ``bench/.cache/tmp`` on
   the same filesystem as the source.  Between steps, and untimed, the script calls
   ``sync`` and deletes the step's output so no dirty pages leak into the next step,
   and before each writing step it touches 1.5x the file size of fresh memory (see
   ``settle``: on a VM that returns idle memory to the host, the first writer after a
   pause would otherwise pay several seconds for it).
4. Prints medians, throughput, peak RSS and the ratios of ingest to the references.

Peak RSS comes from GNU time (``/usr/bin/time``, Debian package ``time``) when present:
``ru_maxrss`` of a child forked from this Python process would include our own RSS.

Each ingest gets a fresh MAM home (``mam db upgrade`` there, untimed), so the same
content is never refused as a duplicate and every run starts from the same state.
``MAM_BROKER_URL`` is ``filesystem://``: ingest only enqueues, no worker is needed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "bench" / ".cache"
MIB = 1024 * 1024

# Raw 1080p yuv420p frames: width * height * 1.5 bytes each.
WIDTH, HEIGHT, FPS = 1920, 1080, 25
FRAME_BYTES = WIDTH * HEIGHT * 3 // 2
AUDIO_RATE = 48_000

HASH_SCRIPT = (
    "import hashlib,sys\n"
    "h=hashlib.sha256()\n"
    "with open(sys.argv[1],'rb') as f:\n"
    "    while chunk:=f.read(1<<20): h.update(chunk)\n"
    "print(h.hexdigest())\n"
)

SHA_RE = re.compile(r"\b([0-9a-f]{64})\b")


# ---- measurement -------------------------------------------------------------------


@dataclass
class Sample:
    """One measured subprocess run."""

    wall: float  # seconds
    maxrss_kib: int  # peak RSS of the child (and its waited-for descendants), KiB
    stdout: str


@dataclass
class Series:
    """Samples of one measured command across rounds."""

    label: str
    nbytes: int  # bytes processed per run (for MiB/s); 0 = not meaningful
    samples: list[Sample] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def rss_mib(self) -> float:
        return max(s.maxrss_kib for s in self.samples) / 1024

    @property
    def spread(self) -> str:
        walls = [s.wall for s in self.samples]
        return f"{min(walls):.2f}-{max(walls):.2f}"


def gnu_time() -> str | None:
    """Return the path of GNU time if installed (it measures RSS without our own as a floor)."""
    path = "/usr/bin/time"
    try:
        out = subprocess.run([path, "--version"], capture_output=True, check=False, text=True)
    except OSError:
        return None
    return path if "GNU" in out.stdout + out.stderr else None


GNU_TIME = gnu_time()


def measure(argv: list[str], *, env: dict[str, str] | None = None, cwd: Path = REPO) -> Sample:
    """Run ``argv`` to completion; return its wall time and peak RSS (fails on exit != 0).

    Peak RSS: a child forked from this (large) Python process starts out sharing its
    memory, and Linux keeps the pre-exec high-water mark in ``ru_maxrss``, so wait4 on
    the direct child would report at least our own RSS.  GNU time, a ~1 MiB process,
    forks the command itself and reports the command's ``ru_maxrss`` (including its
    waited-for children, e.g. ffprobe); without it we fall back to wait4.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as rss_file,
    ):
        full = [GNU_TIME, "-q", "-f", "%M", "-o", rss_file.name, *argv] if GNU_TIME else argv
        started = time.perf_counter()
        proc = subprocess.Popen(
            full, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=cwd
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        if proc.returncode != 0:
            stderr = err.read().decode("utf-8", "replace")
            raise RuntimeError(f"{argv[0]} exited with {proc.returncode}:\n{stdout}{stderr}")
        maxrss = int(rss_file.read().split()[-1]) if GNU_TIME else usage.ru_maxrss
    return Sample(wall=wall, maxrss_kib=maxrss, stdout=stdout)


def settle(prime: int = 0) -> None:
    """Untimed: flush dirty pages, then touch ``prime`` bytes of fresh memory.

    ``sync`` keeps one step's writeback out of the next step's time.  Priming is for
    VMs whose balloon driver hands idle guest memory back to the host (virtio free page
    reporting): the first touch of such memory is several times slower, and otherwise
    whichever step first allocates ~1 GiB of page cache after a pause pays for it.
    """
    os.sync()
    if prime:
        buf = bytearray(prime)  # zero-filled: every page is touched
        del buf


# ---- test media --------------------------------------------------------------------


def run_quiet(argv: list[str]) -> None:
    """Run a setup command; show its stderr only if it fails."""
    result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{result.stderr.decode('utf-8', 'replace')}")


def make_clip(dest: Path, frames: int, size: tuple[int, int], rate: int) -> None:
    """Write ``frames`` frames of testsrc2 as rawvideo + PCM in NUT, atomically."""
    tmp = dest.with_name(dest.name + ".part.nut")
    seconds = frames / rate
    run_quiet(
        [
            "ffmpeg",
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={size[0]}x{size[1]}:rate={rate}",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:sample_rate={AUDIO_RATE}",
            "-t",
            f"{seconds:.3f}",
            "-frames:v",
            str(frames),
            "-c:v",
            "rawvideo",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "pcm_s16le",
            "-ac",
            "2",
            str(tmp),
        ]
    )
    tmp.replace(dest)


def source_path(size_mib: int) -> tuple[Path, int]:
    """Return the cache path of the ~``size_mib`` MiB test file and its frame count."""
    per_frame = FRAME_BYTES + 4 * AUDIO_RATE / FPS  # + 16-bit stereo PCM
    frames = max(1, round(size_mib * MIB / per_frame))
    return CACHE / f"testsrc2-{WIDTH}x{HEIGHT}-{frames}f.nut", frames


def source_file(size_mib: int) -> Path:
    """Return the cached ~``size_mib`` MiB test file, making it first if needed."""
    dest, frames = source_path(size_mib)
    if not dest.exists():
        print(f"making {dest.relative_to(REPO)} ({frames} raw frames) ...", flush=True)
        started = time.perf_counter()
        make_clip(dest, frames, (WIDTH, HEIGHT), FPS)
        print(f"  made in {time.perf_counter() - started:.1f} s", flush=True)
    return dest


def tiny_file() -> Path:
    """Return a cached 1-second 320x240 clip (fixed-cost ingest)."""
    dest = CACHE / "testsrc2-320x240-25f.nut"
    if not dest.exists():
        make_clip(dest, 25, (320, 240), 25)
    return dest


def warm(path: Path) -> None:
    """Read ``path`` once so it sits in the page cache."""
    with path.open("rb") as fh:
        while fh.read(8 * MIB):
            pass


def probe_seconds(path: Path, repeat: int = 3) -> tuple[float, str]:
    """Return the median time of ``mam.probe.probe(path)`` and a one-line summary."""
    sys.path.insert(0, str(REPO))
    from mam.probe import probe

    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        info = probe(path)
        times.append(time.perf_counter() - started)
    video = info.primary_video
    audio = info.primary_audio
    summary = (
        f"{info.container} {info.duration:.2f}s video {video.codec if video else '-'} "
        f"{video.width if video else 0}x{video.height if video else 0} "
        f"audio {audio.codec if audio else '-'}"
    )
    return statistics.median(times), summary


# ---- MAM ---------------------------------------------------------------------------


def mam_binary() -> Path:
    """Return the ``mam`` console script of this interpreter's environment."""
    candidate = Path(sys.executable).parent / "mam"  # not resolved: keep the venv's bin/
    if candidate.exists():
        return candidate
    found = shutil.which("mam")
    if not found:
        sys.exit("the `mam` command is not installed; run `make setup` first")
    return Path(found)


def mam_env(home: Path) -> dict[str, str]:
    """Return an environment for ``mam`` using only the embedded default under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAM_")}
    env.update(MAM_HOME=str(home), MAM_BROKER_URL="filesystem://", MAM_STORAGE_BACKEND="local")
    return env


def fresh_home(parent: Path, name: str, mam: Path) -> tuple[Path, dict[str, str]]:
    """Create a MAM home with a migrated SQLite database (untimed)."""
    home = parent / name
    home.mkdir()
    env = mam_env(home)
    measure([str(mam), "db", "upgrade"], env=env)
    return home, env


def ingest(mam: Path, src: Path, parent: Path, name: str, prime: int = 0) -> tuple[Sample, str]:
    """Ingest ``src`` into a fresh home; return the sample and the stored original's sha256."""
    home, env = fresh_home(parent, name, mam)
    settle(prime)
    sample = measure(
        [str(mam), "ingest", str(src), "--programme", "基准", "--title", name], env=env
    )
    originals = list((home / "storage" / "originals").iterdir())
    if len(originals) != 1 or originals[0].stat().st_size != src.stat().st_size:
        raise RuntimeError(f"unexpected storage after ingest: {originals}")
    if not list((home / "broker" / "queue").iterdir()):
        raise RuntimeError("ingest queued no task")
    shutil.rmtree(home)
    settle()
    return sample, originals[0].name


# ---- the benchmark -----------------------------------------------------------------


def one_round(
    n: int, files: tuple[Path, Path], tmp: Path, mam: Path, series: dict[str, Series]
) -> None:
    """Run every measured command once, in a fixed order."""
    src, tiny = files
    dest = tmp / "cp.dest"
    prime = src.stat().st_size * 3 // 2
    settle(prime)
    series["cp"].samples.append(measure(["cp", str(src), str(dest)]))
    settle()
    dest.unlink()
    settle(prime)
    series["cp+fsync"].samples.append(
        measure(["sh", "-c", 'cp "$1" "$2" && sync "$2"', "sh", str(src), str(dest)])
    )
    dest.unlink()

    sample, stored_sha = ingest(mam, src, tmp, f"run-{n}", prime)
    series["ingest"].samples.append(sample)

    sample = measure(["sha256sum", str(src)])
    series["sha256sum"].samples.append(sample)
    match = SHA_RE.search(sample.stdout)
    if not match or match.group(1) != stored_sha:
        raise RuntimeError(f"sha256 mismatch: sha256sum {sample.stdout!r}, ingest {stored_sha}")
    series["hashlib"].samples.append(measure([sys.executable, "-c", HASH_SCRIPT, str(src)]))

    sample, _ = ingest(mam, tiny, tmp, f"tiny-{n}")
    series["ingest-tiny"].samples.append(sample)


def print_table(series: dict[str, Series], size: int) -> None:
    """Print one row per measured command."""
    print(f"\n{'command':<34}{'median s':>9}{'min-max s':>13}{'MiB/s':>9}{'peak RSS MiB':>14}")
    labels = {
        "cp": "cp SRC DEST",
        "cp+fsync": "cp SRC DEST && sync DEST",
        "ingest": "mam ingest SRC (fresh home)",
        "sha256sum": "sha256sum SRC",
        "hashlib": "python hashlib.sha256 (1 MiB)",
        "ingest-tiny": "mam ingest TINY (fixed cost)",
    }
    for key, s in series.items():
        rate = f"{size / MIB / s.wall:9.0f}" if s.nbytes else f"{'-':>9}"
        print(f"{labels[key]:<34}{s.wall:9.2f}{s.spread:>13}{rate}{s.rss_mib:14.1f}")


def print_ratios(series: dict[str, Series], size: int, probe_s: float) -> None:
    """Print ingest against each reference."""
    ing = series["ingest"].wall
    fixed = series["ingest-tiny"].wall
    cp, cps = series["cp"].wall, series["cp+fsync"].wall
    sha, hl = series["sha256sum"].wall, series["hashlib"].wall
    print("\nratios (medians):")
    print(f"  ingest / cp                         {ing / cp:6.2f}x")
    print(f"  ingest / (cp + fsync)               {ing / cps:6.2f}x")
    print(f"  ingest / sha256sum                  {ing / sha:6.2f}x")
    print(f"  ingest / python hashlib             {ing / hl:6.2f}x")
    print(
        f"  ingest / max(cp+fsync, hashlib)     {ing / max(cps, hl):6.2f}x   "
        "(ideal: copy and hash fully overlapped)"
    )
    print(
        f"  ingest / (cp+fsync + hashlib)       {ing / (cps + hl):6.2f}x   "
        "(copy then hash, one thread)"
    )
    variable = ing - fixed
    print(
        f"  ingest minus fixed cost             {variable:6.2f} s = "
        f"{size / MIB / variable:.0f} MiB/s for the bytes themselves"
    )
    print(f"  fixed cost of one `mam ingest`      {fixed:6.2f} s (tiny clip; includes ffprobe)")
    print(f"  ffprobe of SRC (mam.probe.probe)    {probe_s:6.3f} s")
    rss = series["ingest"].rss_mib
    print(
        f"  ingest peak RSS                     {rss:6.1f} MiB "
        f"= {rss / (size / MIB) * 100:.1f}% of the {size / MIB:.0f} MiB file "
        f"(tiny clip: {series['ingest-tiny'].rss_mib:.1f} MiB)"
    )


def check_space(size_mib: int, have_source: bool) -> None:
    """Refuse to start without room for the source and one copy of it."""
    need = (0 if have_source else size_mib) * MIB + size_mib * MIB + 512 * MIB
    free = shutil.disk_usage(CACHE).free
    if free < need:
        sys.exit(
            f"not enough space in {CACHE}: {free / MIB:.0f} MiB free, {need / MIB:.0f} MiB needed"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="test file size in MiB")
    parser.add_argument("--runs", type=int, default=3, help="rounds; medians are reported")
    args = parser.parse_args()
    if args.size_mb < 1 or args.runs < 1:
        parser.error("--size-mb and --runs must be positive")
    for tool in ("ffmpeg", "ffprobe", "cp", "sha256sum", "sync"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found (install ffmpeg and coreutils)")
    # SIGTERM runs the cleanup in `finally` like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    mam = mam_binary()
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "tmp").mkdir(exist_ok=True)
    check_space(args.size_mb, source_path(args.size_mb)[0].exists())
    src = source_file(args.size_mb)
    tiny = tiny_file()
    size = src.stat().st_size
    probe_s, summary = probe_seconds(src)

    tmp = Path(tempfile.mkdtemp(prefix="run-", dir=CACHE / "tmp"))
    same_fs = tmp.stat().st_dev == src.stat().st_dev
    print(f"source:  {src.relative_to(REPO)}  {size:,} bytes ({size / MIB:.0f} MiB)")
    print(f"         {summary}")
    print(f"dest:    {tmp.relative_to(REPO)}  (same filesystem as source: {same_fs})")
    print(f"mam:     {mam}   python {sys.version.split()[0]}   cpus {os.cpu_count()}")
    print(
        "rss:     "
        + (
            "GNU time %M (ru_maxrss of the command and its children)"
            if GNU_TIME
            else "wait4 ru_maxrss (floor: this script's own RSS; install GNU time)"
        )
    )
    print(
        f"rounds:  {args.runs}; order per round: cp, cp+fsync, ingest, sha256sum, hashlib, "
        "ingest-tiny"
    )
    print("cache:   source read once before timing; every step reads it warm from page cache;")
    print("         untimed between steps: `sync`, and touching 1.5x the file size of fresh")
    print("         memory before cp, cp+fsync and ingest (see settle()); cp does not fsync,")
    print("         ingest does")

    series = {
        "cp": Series("cp", size),
        "cp+fsync": Series("cp+fsync", size),
        "ingest": Series("ingest", size),
        "sha256sum": Series("sha256sum", size),
        "hashlib": Series("hashlib", size),
        "ingest-tiny": Series("ingest-tiny", 0),
    }
    try:
        warm(src)
        for n in range(1, args.runs + 1):
            started = time.perf_counter()
            one_round(n, (src, tiny), tmp, mam, series)
            print(
                f"  round {n}/{args.runs} done in {time.perf_counter() - started:.1f} s", flush=True
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print_table(series, size)
    print_ratios(series, size, probe_s)


if __name__ == "__main__":
    main()
