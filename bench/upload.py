"""Upload benchmark: a 2 GB file through tus on loopback against ``cp`` of the same file.

    .venv/bin/python bench/upload.py [--size-mb 2048] [--chunk-mb 64] [--runs 3]

The web app runs in its own process (werkzeug's threaded server, as `mam web`, or with
``--server gunicorn`` two gthread workers as in docker/entrypoint.sh), on SQLite
and local storage under a temporary home on the same filesystem as the source; tuspy is
the client. The file is a short real clip followed by random padding, so the finished
upload is probed and ingested like any other. The tus time runs from the creation POST
until the server answers the last PATCH (SHA-256, fdatasync per PATCH, probe, ingest).

Each run copies the same file with ``cp`` into the same directory and uploads it, after
an ``os.sync()`` so neither starts with the other's dirty pages; the source stays in the
page cache for both. The order alternates between runs, and medians are reported. The
server's peak RSS is the kernel's high-water mark (VmHWM) of the largest server process.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER = r"""
import logging, socket, sys
from mam import migrate
from mam.config import Settings
from mam.models import Role
from mam.runtime import build_runtime
from mam.services.tokens import TokenService
from mam.services.users import UserService
from web import create_app

logging.getLogger("werkzeug").setLevel(logging.WARNING)
settings = Settings.from_env()
migrate.upgrade(settings.database_url)
runtime = build_runtime(settings)
with runtime.db.session() as s:
    user = UserService(s).create("bench", "bench-password-1", [Role.PRODUCER])
    secret, _ = TokenService(s).issue(user, "bench")

class NoQueue:
    def enqueue_processing(self, version_id, job_id):
        return None

def make_app():
    app = create_app(runtime=build_runtime(settings))
    app.extensions["mam_queue"] = NoQueue()
    return app

if sys.argv[1] == "werkzeug":
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, make_app(), threaded=True)
    print(f"{server.server_port} {secret}", flush=True)
    server.serve_forever()
else:  # as docker/entrypoint.sh runs it: gunicorn, 2 gthread workers of 4 threads
    from gunicorn.app.base import BaseApplication
    runtime.close()
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()

    class Gunicorn(BaseApplication):
        def load_config(self):
            for key, value in {"bind": f"127.0.0.1:{port}", "workers": 2, "threads": 4,
                               "worker_class": "gthread", "timeout": 120}.items():
                self.cfg.set(key, value)

        def load(self):
            return make_app()

    print(f"{port} {secret}", flush=True)
    Gunicorn().run()
"""


CPU: dict[str, list[float]] = {"cp": [], "client": [], "server": []}


def make_file(path: Path, size: int) -> str:
    """Write a short clip padded to ``size`` bytes; return its SHA-256."""
    clip = path.with_suffix(".clip.mp4")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=1",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip)],
        check=True,
    )  # fmt: skip
    digest = hashlib.sha256()
    block = os.urandom(8 << 20)
    with path.open("wb") as out:
        head = clip.read_bytes()
        out.write(head)
        digest.update(head)
        left = size - len(head)
        while left > 0:
            piece = block[: min(len(block), left)]
            out.write(piece)
            digest.update(piece)
            left -= len(piece)
    clip.unlink()
    return digest.hexdigest()


def peak_rss(proc: psutil.Process) -> int:
    """Return the largest peak resident set size (VmHWM) among a server and its workers."""
    peaks = [0]
    for each in [proc, *proc.children(recursive=True)]:
        for line in Path(f"/proc/{each.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) * 1024)
    return max(peaks)


def wait_listening(port: int) -> None:
    """Wait until something accepts connections on ``port``."""
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def cpu_seconds(who: int) -> float:
    """Return user + system CPU seconds of this process or its waited-for children."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def process_cpu(proc: psutil.Process) -> float:
    """Return the CPU seconds of a server, its workers and their waited-for children."""
    total = 0.0
    for each in [proc, *proc.children(recursive=True)]:
        t = each.cpu_times()
        total += t.user + t.system + t.children_user + t.children_system
    return total


def time_cp(source: Path, tmpdir: Path) -> tuple[float, float]:
    """Return the seconds of ``cp`` and of ``cp`` + fsync of the copy."""
    copy = tmpdir / "copy.mp4"
    os.sync()
    cpu0 = cpu_seconds(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(["cp", str(source), str(copy)], check=True)
    seconds = time.perf_counter() - t0
    CPU["cp"].append(cpu_seconds(resource.RUSAGE_CHILDREN) - cpu0)
    with copy.open("rb") as fh:
        os.fsync(fh.fileno())
    synced = time.perf_counter() - t0
    copy.unlink()
    return seconds, synced


def time_tus(
    source: Path, tmpdir: Path, sha: str, size: int, chunk: int, server_kind: str
) -> tuple[float, int]:
    """Upload ``source`` to a fresh server; return (seconds, server peak RSS)."""
    from tusclient import client as tus_client

    home = tmpdir / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAM_")}
    env.update(MAM_HOME=str(home), MAM_MAX_UPLOAD_SIZE=str(size * 2))
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, server_kind],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port, secret = proc.stdout.readline().split()
        wait_listening(int(port))
        client = tus_client.TusClient(
            f"http://127.0.0.1:{port}/upload/files", headers={"Authorization": f"Bearer {secret}"}
        )
        os.sync()
        with source.open("rb") as stream:
            uploader = client.uploader(
                file_stream=stream,
                chunk_size=chunk,
                metadata={"filename": "bench.mp4", "programme": "基准", "title": "上传基准"},
            )
            server = psutil.Process(proc.pid)
            server_cpu0, client_cpu0 = process_cpu(server), cpu_seconds(resource.RUSAGE_SELF)
            t0 = time.perf_counter()
            uploader.upload()
            seconds = time.perf_counter() - t0
            CPU["client"].append(cpu_seconds(resource.RUSAGE_SELF) - client_cpu0)
            CPU["server"].append(process_cpu(server) - server_cpu0)
        peak = peak_rss(server)
        stored = next((home / "storage" / "originals").iterdir())
        assert stored.name == sha, "stored SHA-256 differs from the source"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()
        shutil.rmtree(home, ignore_errors=True)
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=2048)
    parser.add_argument("--chunk-mb", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--server",
        choices=["werkzeug", "gunicorn"],
        default="werkzeug",
        help="werkzeug's threaded server (`mam web`) or gunicorn gthread as in docker/",
    )
    args = parser.parse_args()
    size = args.size_mb << 20
    mb = size / 1e6
    tus, cp, cp_sync, peaks = [], [], [], []
    with tempfile.TemporaryDirectory(
        prefix="mam-upload-bench-", dir=ROOT / "var" if (ROOT / "var").is_dir() else None
    ) as tmp:
        tmpdir = Path(tmp)
        source = tmpdir / "source.mp4"
        print(f"writing a {args.size_mb} MiB file ...", file=sys.stderr)
        sha = make_file(source, size)
        for run in range(args.runs):
            if run % 2:
                seconds, peak = time_tus(
                    source, tmpdir, sha, size, args.chunk_mb << 20, args.server
                )
                plain, synced = time_cp(source, tmpdir)
            else:
                plain, synced = time_cp(source, tmpdir)
                seconds, peak = time_tus(
                    source, tmpdir, sha, size, args.chunk_mb << 20, args.server
                )
            tus.append(seconds)
            cp.append(plain)
            cp_sync.append(synced)
            peaks.append(peak)
            print(
                f"run {run + 1}: tus {mb / seconds:6.1f} MB/s  cp {mb / plain:6.1f} MB/s  "
                f"ratio {plain / seconds:.2f}  peak RSS {peak / 1e6:.0f} MB",
                file=sys.stderr,
            )
    med = statistics.median
    print(f"file: {args.size_mb} MiB ({mb:.0f} MB), tus chunk {args.chunk_mb} MiB, ", end="")
    print(f"{args.runs} runs (medians), {args.server} server, stored SHA-256 ok")
    print(f"tus upload (SHA-256, fdatasync per PATCH, probe, ingest): {mb / med(tus):7.1f} MB/s")
    print(f"cp:                                                        {mb / med(cp):7.1f} MB/s")
    print(
        f"cp + fsync:                                                {mb / med(cp_sync):7.1f} MB/s"
    )
    ratios = [c / t for c, t in zip(cp, tus, strict=True)]
    sync_ratios = [c / t for c, t in zip(cp_sync, tus, strict=True)]
    print(
        f"throughput ratio tus/cp: {med(ratios):.2f} (runs: {', '.join(f'{r:.2f}' for r in ratios)})"
    )
    print(f"throughput ratio tus/(cp+fsync): {med(sync_ratios):.2f}")
    gb = size / 1e9
    print(
        "CPU seconds per GB: cp {:.2f}, tus server {:.2f} + tuspy client {:.2f}".format(
            *(med(CPU[k]) / gb for k in ("cp", "server", "client"))
        )
    )
    print(
        f"server peak RSS (VmHWM of the largest server process): {med(peaks) / 1e6:.0f} MB (max {max(peaks) / 1e6:.0f} MB)"
    )


if __name__ == "__main__":
    main()
