"""Browser fixtures: the whole system on a free port, and Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from mam.models import Role
from mam.runtime import Runtime
from mam.services.users import UserService
from tests.conftest import unavailable
from tests.workerproc import celery_worker
from web import create_app

CHROMIUM = os.environ.get("MAM_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery"
# Flags the closed network here needs (no background connections), plus autoplay for tests.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--lang=zh-CN",
]


@dataclass
class LiveSystem:
    url: str
    runtime: Runtime


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_system(runtime: Runtime, tmp_path: Path) -> Iterator[LiveSystem]:
    """Web server (threaded, real HTTP) and a real Celery worker on the embedded broker."""
    with runtime.db.session() as s:
        users = UserService(s)
        users.create("producer", PASSWORD, [Role.PRODUCER], display_name="张编导")
        users.create("reviewer", PASSWORD, [Role.REVIEWER], display_name="李审片")
    app = create_app(runtime=runtime)
    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with celery_worker(runtime.settings, tmp_path / "worker.log"):
            yield LiveSystem(url=f"http://127.0.0.1:{server.server_port}", runtime=runtime)
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})  # type: ignore[attr-defined]
    page = context.new_page()
    yield page
    context.close()


def shot(page: object, name: str) -> Path:
    """Save a screenshot under test-artifacts/ (kept by CI)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path
