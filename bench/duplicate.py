"""Duplicate-upload benchmark: how long until a producer learns a file is already there.

    .venv/bin/python bench/duplicate.py [--size-mb 1024] [--chunk-mb 64]

A file (a short clip padded with random bytes) is ingested, then offered again through
tus on loopback (werkzeug's threaded server, SQLite and local storage in a temporary
home): (a) as the upload page does it, with the fingerprint (size + SHA-256 of both
4 MiB ends, here computed in Python as the page does with WebCrypto) in the creation
request, and (b) without it, so the whole file is sent and the full SHA-256 refuses it.
Both end with the server's final 422; the ratio is (b) / (a).
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.upload import make_file  # noqa: E402
from mam import migrate  # noqa: E402
from mam.config import Settings  # noqa: E402
from mam.models import Role  # noqa: E402
from mam.runtime import build_runtime  # noqa: E402
from mam.services.fingerprints import file_fingerprint  # noqa: E402
from mam.services.ingest import IngestService  # noqa: E402
from mam.services.tokens import TokenService  # noqa: E402
from mam.services.users import UserService  # noqa: E402
from web import create_app  # noqa: E402


def meta(**fields: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())


def offer(url: str, token: str, path: Path, chunk: int, fingerprint: str | None) -> int:
    """Create an upload of ``path`` and send it until the server refuses it; return the status."""
    size = path.stat().st_size
    fields = {"filename": path.name, "programme": "基准", "title": "重复"}
    if fingerprint:
        fields["fingerprint"] = fingerprint
    tus = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    with requests.Session() as http:
        r = http.post(
            f"{url}/upload/files",
            headers={**tus, "Upload-Length": str(size), "Upload-Metadata": meta(**fields)},
            timeout=60,
        )
        if r.status_code != 201:
            return r.status_code
        location, offset = r.headers["Location"], 0
        with path.open("rb") as fh:
            while offset < size:
                body = fh.read(chunk)
                r = http.patch(
                    location,
                    data=body,
                    headers={
                        **tus,
                        "Upload-Offset": str(offset),
                        "Content-Type": "application/offset+octet-stream",
                    },
                    timeout=600,
                )
                if r.status_code != 204:
                    return r.status_code
                offset += len(body)
    return 204


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--chunk-mb", type=int, default=64)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(dir=ROOT / "var" if (ROOT / "var").is_dir() else None) as tmp:
        home = Path(tmp)
        os.environ["MAM_HOME"] = str(home)
        settings = Settings.from_env()
        migrate.upgrade(settings.database_url)
        runtime = build_runtime(settings)
        source = home / "master.mp4"
        make_file(source, args.size_mb << 20)
        with runtime.db.session() as s:
            user = UserService(s).create("bench", "bench-password-1", [Role.PRODUCER])
            token, _ = TokenService(s).issue(user, "bench")
            IngestService(s, runtime.storage).ingest_file(source, programme="基准", title="原片")
        app = create_app(runtime=runtime)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}"
        try:
            t0 = time.perf_counter()
            status_a = offer(url, token, source, args.chunk_mb << 20, file_fingerprint(source))
            fast = time.perf_counter() - t0
            t0 = time.perf_counter()
            status_b = offer(url, token, source, args.chunk_mb << 20, None)
            slow = time.perf_counter() - t0
        finally:
            server.shutdown()
            runtime.close()
    print(f"{args.size_mb} MiB duplicate, refused with {status_a} / {status_b}")
    print(f"(a) fingerprint at creation: {fast * 1000:.0f} ms")
    print(f"(b) whole file, then SHA-256: {slow:.1f} s")
    print(f"ratio (b)/(a): {slow / fast:.0f}")


if __name__ == "__main__":
    main()
