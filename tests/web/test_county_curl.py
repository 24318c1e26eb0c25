"""A county's scheduled job: real curl with a Bearer token, cut off, then resumed with -C -."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from mam.runtime import Runtime
from tests.conftest import unavailable
from tests.web.county_fixtures import build_world
from tests.web.tus_helpers import serving

pytestmark = pytest.mark.slow


def curl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["curl", "--silent", "--show-error", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_curl_resumes_a_package_download_with_a_token(
    backend_runtime: Runtime, tmp_path: Path
) -> None:
    if shutil.which("curl") is None:
        unavailable("curl is not installed")
    world = build_world(backend_runtime, 3_000_000, seed=5)
    header = "Authorization: " + world.token()["Authorization"]
    out = tmp_path / "2026年第12期-tv.zip"
    with serving(world.app) as base:
        url = base + world.url
        # the first transfer is cut after 1 MB (as a dropped line would leave the file)
        first = curl("-f", "-r", "0-999999", "-H", header, "-o", str(out), url)
        assert first.returncode == 0, first.stderr
        assert out.stat().st_size == 1_000_000
        assert not world.downloaded()
        # the nightly job runs again: curl asks for the rest and appends it
        again = curl("-f", "-C", "-", "-H", header, "-o", str(out), "-w", "%{http_code}", url)
        assert again.returncode == 0, again.stderr
        assert again.stdout == "206"
        # a wrong token is refused plainly, not sent to the login page
        bad = curl(
            "-H", "Authorization: Bearer mam_wrong", "-o", "/dev/null", "-w", "%{http_code}", url
        )
        assert bad.stdout == "401"
    assert hashlib.sha256(out.read_bytes()).hexdigest() == world.sha256
    rows = world.wait_downloads(2)
    assert [(s, n) for s, n, _c in rows] == [(0, 1_000_000), (1_000_000, 2_000_000)]
    assert world.downloaded()
