"""Benchmark a county's package download from the system against nginx serving the same file.

Run from the repository root (needs Debian's nginx and curl; gunicorn from the prod extra)::

    .venv/bin/python bench/download.py [--size-mb 2048] [--runs 3]

In one run it:

1. makes a MAM home under ``bench/.cache/dl`` with a published release set whose ``tv``
   package is a ``--size-mb`` MiB file in local storage, and a county account;
2. serves the system with gunicorn (``web:create_app()``, gthread) on a loopback port and
   the same file with nginx (``sendfile on``) on another;
3. downloads it ``--runs`` times from each, interleaved, with ``curl -o /dev/null``
   (the system's request carries the county's session cookie) and prints median
   throughput and the ratio system / nginx (target >= 0.8);
4. cuts a download at a random offset (``curl --range``), resumes it with ``curl -C -``
   and checks that the SHA-256 of the result equals the package's.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CACHE = ROOT / "bench" / ".cache" / "dl"
PASSWORD = "bench password 1"
AGENT = "mam-bench/1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def make_package_file(path: Path, size: int) -> str:
    """Write ``size`` bytes of incompressible data; return its SHA-256."""
    block = os.urandom(64 << 20)
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        left = size
        while left:
            piece = block[: min(len(block), left)]
            fh.write(piece)
            digest.update(piece)
            left -= len(piece)
    return digest.hexdigest()


def setup(home: Path, size: int) -> tuple[int, str, Path]:
    """Create the database, a county user and a published release with a ready package."""
    from mam import migrate
    from mam.config import Settings
    from mam.models import Role
    from mam.models.release import PackageKind, PackageState
    from mam.runtime import build_runtime
    from mam.services.packaging import package_key
    from mam.services.releases import ReleaseService
    from mam.services.users import UserService
    from tests import factories

    settings = Settings(home=home).resolved()
    migrate.upgrade(settings.database_url)
    rt = build_runtime(settings)
    with rt.db.session() as s:
        users = UserService(s)
        users.ensure_county("bench", "基准县")
        users.create("county", PASSWORD, [Role.COUNTY], county_code="bench")
        publisher = users.create("publisher", PASSWORD, [Role.PUBLISHER])
        version = factories.version(s, factories.VersionState.APPROVED)
        svc = ReleaseService(s)
        release = svc.create("基准期", publisher)
        svc.add_version(release, version.id, publisher)
        svc.set_targets(release, None, publisher)
        tv = next(p for p in svc.publish(release, publisher) if p.kind == PackageKind.TV)
        key = package_key(release.id, PackageKind.TV, tv.county_id)
        path = rt.storage.local_path(key)
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"writing a {size / 2**20:.0f} MiB package ...", flush=True)
        digest = make_package_file(path, size)
        tv.storage_key, tv.size, tv.sha256, tv.state = key, size, digest, PackageState.READY
        s.commit()
        package_id = tv.id
    rt.close()
    return package_id, digest, path


def start_gunicorn(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MAM_HOME": str(home)}
    gunicorn = shutil.which("gunicorn", path=str(ROOT / ".venv" / "bin")) or "gunicorn"
    return subprocess.Popen(
        [gunicorn, "-k", "gthread", "-w", "2", "--threads", "4", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "web:create_app()"], cwd=ROOT, env=env)


def start_nginx(root: Path, file: Path, port: int) -> subprocess.Popen[bytes]:
    conf = root / "nginx.conf"
    conf.write_text(f"""
daemon off; worker_processes 1; pid {root}/nginx.pid; error_log {root}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off; sendfile on; tcp_nopush on;
  client_body_temp_path {root}/tmp; proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp;
  uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;
  server {{ listen 127.0.0.1:{port}; location = /package.zip {{ alias {file}; }} }}
}}
""")
    (root / "tmp").mkdir(exist_ok=True)
    return subprocess.Popen(["nginx", "-c", str(conf), "-p", str(root)])


def login_cookie(base: str) -> str:
    with requests.Session() as http:
        # Flask-Login's strong session protection ties the session to the user agent.
        http.headers["User-Agent"] = AGENT
        page = http.get(f"{base}/login", timeout=30).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token, "no CSRF token on the login page"
        r = http.post(f"{base}/login", data={"username": "county", "password": PASSWORD,
                                             "csrf_token": token.group(1)}, timeout=30)
        r.raise_for_status()
        return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


def curl(url: str, cookie: str | None, *extra: str) -> float:
    """Download to /dev/null; return bytes per second."""
    argv = ["curl", "-s", "-f", "-A", AGENT, "-o", "/dev/null", "-w", "%{speed_download}",
            *extra, url]
    if cookie:
        argv[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return float(out)


def resume_check(url: str, cookie: str, size: int, digest: str, work: Path) -> str:
    """Cut a download at a random offset, resume with -C -, compare SHA-256."""
    part = work / "resumed.zip"
    part.unlink(missing_ok=True)
    cut = random.randint(size // 10, size - size // 10)
    headers = ["-A", AGENT, "-H", f"Cookie: {cookie}"]
    subprocess.run(["curl", "-s", "-f", *headers, "-r", f"0-{cut - 1}", "-o", str(part), url],
                   check=True)
    assert part.stat().st_size == cut
    subprocess.run(["curl", "-s", "-f", *headers, "-C", "-", "-o", str(part), url], check=True)
    got = hashlib.sha256(part.read_bytes()).hexdigest()
    part.unlink()
    return f"cut at {cut:,} of {size:,} bytes, resumed: sha256 {'OK' if got == digest else 'MISMATCH'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=2048)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for tool in ("nginx", "curl"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is required (apt-get install nginx-light curl)")
    shutil.rmtree(CACHE, ignore_errors=True)
    CACHE.mkdir(parents=True)
    home = CACHE / "var"
    size = args.size_mb << 20
    package_id, digest, path = setup(home, size)
    web_port, nginx_port = free_port(), free_port()
    procs = [start_gunicorn(home, web_port), start_nginx(CACHE, path, nginx_port)]
    try:
        wait_port(web_port)
        wait_port(nginx_port)
        base = f"http://127.0.0.1:{web_port}"
        cookie = login_cookie(base)
        system_url = f"{base}/county/packages/{package_id}/download"
        nginx_url = f"http://127.0.0.1:{nginx_port}/package.zip"
        curl(system_url, cookie)  # warm: page cache, imports, database connections
        curl(nginx_url, None)
        system, nginx = [], []
        for n in range(args.runs):
            system.append(curl(system_url, cookie))
            nginx.append(curl(nginx_url, None))
            print(f"  round {n + 1}/{args.runs}: system {system[-1] / 2**20:,.0f} MiB/s, "
                  f"nginx {nginx[-1] / 2**20:,.0f} MiB/s", flush=True)
        s_med, n_med = statistics.median(system), statistics.median(nginx)
        print(f"\npackage {size / 2**20:,.0f} MiB, {args.runs} runs each, medians:")
        print(f"  system (gunicorn gthread, session auth, Range-capable): {s_med / 2**20:8.0f} MiB/s")
        print(f"  nginx static file (sendfile):                            {n_med / 2**20:8.0f} MiB/s")
        print(f"  ratio system / nginx: {s_med / n_med:.2f}  (target >= 0.8)")
        print("  " + resume_check(system_url, cookie, size, digest, CACHE))
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        shutil.rmtree(CACHE, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
