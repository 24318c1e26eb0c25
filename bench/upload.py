"""Upload benchmark: a 2 GB file through tus on loopback against ``cp`` of the same file.

    .venv/bin/python bench/upload.py [--size-mb 2048] [--chunk-mb 64]

The web app runs in its own process (werkzeug's threaded server, as `mam web`), on SQLite
and local storage under a temporary home; tuspy is the client. The file is a short real
clip followed by padding, so the finished upload is probed and ingested like any other.
Prints both throughputs, their ratio and the server's peak RSS (sampled every 20 ms).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER = r"""
import sys
from werkzeug.serving import make_server
from mam import migrate
from mam.config import Settings
from mam.models import Role
from mam.runtime import build_runtime
from mam.services.tokens import TokenService
from mam.services.users import UserService
from web import create_app

settings = Settings.from_env()
migrate.upgrade(settings.database_url)
runtime = build_runtime(settings)
with runtime.db.session() as s:
    user = UserService(s).create("bench", "bench-password-1", [Role.PRODUCER])
    secret, _ = TokenService(s).issue(user, "bench")

class NoQueue:
    def enqueue_processing(self, version_id, job_id):
        return None

app = create_app(runtime=runtime)
app.extensions["mam_queue"] = NoQueue()
server = make_server("127.0.0.1", 0, app, threaded=True)
print(f"{server.server_port} {secret}", flush=True)
server.serve_forever()
"""


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


def sample_rss(proc: psutil.Process, stop: threading.Event, peak: list[int]) -> None:
    """Keep the highest RSS of ``proc`` (and children) in ``peak[0]``."""
    while not stop.is_set():
        try:
            rss = proc.memory_info().rss + sum(
                c.memory_info().rss for c in proc.children(recursive=True)
            )
        except psutil.Error:
            return
        peak[0] = max(peak[0], rss)
        time.sleep(0.02)


def main() -> None:  # noqa: PLR0915 - a linear script
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=2048)
    parser.add_argument("--chunk-mb", type=int, default=64)
    args = parser.parse_args()
    from tusclient import client as tus_client

    size = args.size_mb << 20
    with tempfile.TemporaryDirectory(
        prefix="mam-upload-bench-", dir=ROOT / "var" if (ROOT / "var").is_dir() else None
    ) as tmp:
        tmpdir = Path(tmp)
        source = tmpdir / "source.mp4"
        print(f"writing a {args.size_mb} MB file ...", file=sys.stderr)
        sha = make_file(source, size)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAM_")}
        env.update(MAM_HOME=str(tmpdir / "home"), MAM_MAX_UPLOAD_SIZE=str(size * 2))
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVER], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        try:
            assert proc.stdout is not None
            port, secret = proc.stdout.readline().split()
            server = psutil.Process(proc.pid)
            idle_rss = server.memory_info().rss
            peak = [idle_rss]
            stop = threading.Event()
            sampler = threading.Thread(target=sample_rss, args=(server, stop, peak), daemon=True)
            sampler.start()
            client = tus_client.TusClient(
                f"http://127.0.0.1:{port}/upload/files",
                headers={"Authorization": f"Bearer {secret}"},
            )
            with source.open("rb") as stream:
                uploader = client.uploader(
                    file_stream=stream,
                    chunk_size=args.chunk_mb << 20,
                    metadata={"filename": "bench.mp4", "programme": "基准", "title": "上传基准"},
                )
                t0 = time.perf_counter()
                uploader.upload()
                tus_seconds = time.perf_counter() - t0
            stop.set()
            sampler.join()
            stored = next((tmpdir / "home" / "storage" / "originals").iterdir())
            assert stored.name == sha, "stored SHA-256 differs from the source"
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            if proc.stdout:
                proc.stdout.close()
        copy = tmpdir / "copy.mp4"
        t0 = time.perf_counter()
        subprocess.run(["cp", str(source), str(copy)], check=True)
        cp_seconds = time.perf_counter() - t0
        with copy.open("rb") as fh:
            os.fsync(fh.fileno())
        cp_sync_seconds = time.perf_counter() - t0
        shutil.rmtree(tmpdir / "home", ignore_errors=True)
    mb = size / 1e6
    print(
        f"file: {args.size_mb} MiB ({mb:.0f} MB), tus chunk {args.chunk_mb} MiB, stored SHA-256 ok"
    )
    print(
        f"tus upload (incl. SHA-256, fsync per chunk, probe, ingest): {tus_seconds:6.2f} s  {mb / tus_seconds:7.1f} MB/s"
    )
    print(
        f"cp:                                                         {cp_seconds:6.2f} s  {mb / cp_seconds:7.1f} MB/s"
    )
    print(
        f"cp + fsync:                                                 {cp_sync_seconds:6.2f} s  {mb / cp_sync_seconds:7.1f} MB/s"
    )
    print(
        f"throughput ratio tus/cp: {cp_seconds / tus_seconds:.2f}   tus/(cp+fsync): {cp_sync_seconds / tus_seconds:.2f}"
    )
    print(f"server RSS: idle {idle_rss / 1e6:.0f} MB, peak {peak[0] / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
