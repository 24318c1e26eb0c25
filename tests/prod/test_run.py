"""`mam run`: gunicorn and a worker, one block with the URL and accounts, a clean Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
RULE = "=" * 72


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_mam_run_serves_with_gunicorn_prints_one_block_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAM_")}
    env.update(MAM_HOME=str(tmp_path / "var"), MAM_WEB_PORT=str(port), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from mam.cli import main; main()", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    up = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if "Ctrl-C stops web and worker" in line:
                up.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert up.wait(180), "no start block:\n" + "\n".join(lines)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
            assert r.status == 200
            assert r.headers["Server"].startswith("gunicorn")  # not Werkzeug's server
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as r:
            assert "登录" in r.read().decode()  # translations are loaded
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        reader.join(timeout=10)
        assert proc.stdout is not None
        proc.stdout.close()
    output = "\n".join(lines)
    assert code == 0, output
    # One block, after everything is up: the URL and every demo account inside it.
    start = lines.index(RULE)
    end = lines.index(RULE, start + 1)
    block = "\n".join(lines[start:end])
    assert f"http://127.0.0.1:{port}/" in block
    names = ("admin", "producer", "reviewer1", "reviewer2", "publisher", "county", "township")
    for name in (*names, "13800000000"):
        assert f"  {name} " in block, block
    assert not any("WARNING" in line for line in lines[:start]), output  # nothing before it
    assert lines[-1] == "stopped web and worker", output
    assert "ERROR" not in output and "Traceback" not in output, output
    # Nothing left running: the web port is closed.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert "Booting worker" in (tmp_path / "var" / "log" / "web.log").read_text()
