"""Start a real Celery worker process for integration tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from mam.cli.ops import worker_argv
from mam.config import Settings

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def celery_worker(
    settings: Settings,
    log_path: Path,
    *,
    extra_env: dict[str, str] | None = None,
    concurrency: int = 1,
    startup_timeout: float = 60,
    graceful: bool = False,
    prefix: Sequence[str] = (),
) -> Iterator[subprocess.Popen[str]]:
    """Run ``celery -A workers.main worker`` with ``settings`` until the block exits.

    At the end the worker's process group (pool children and their ffmpeg too) is killed:
    a warm shutdown costs 6-7 s of Celery's polling per test and tests nothing the test has
    not already checked. ``graceful=True`` asks for the warm shutdown instead. ``prefix`` runs
    the worker under another command (``taskset -c 0``: pinned to a core). Brokers are
    per test (the embedded one lives in the test's home; Redis databases are flushed), so a
    message left unacknowledged by the kill reaches no other test.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAM_")}
    env.update(settings.to_env())
    env.update(extra_env or {})
    env["PYTHONUNBUFFERED"] = "1"
    # The same command line `mam worker` runs, with a name the tests can recognise.
    argv = [
        *prefix,
        *worker_argv(concurrency, beat=False),
        "-n",
        f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
    ]
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, killed as one at the end
    )
    ready = threading.Event()
    log = log_path.open("w")

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            log.flush()
            if " ready." in line:
                ready.set()

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not ready.wait(0.2):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{log_path.read_text()[-3000:]}")
        yield proc
    finally:
        _stop(proc, graceful=graceful)
        thread.join(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()
        log.close()


def _stop(proc: subprocess.Popen[str], *, graceful: bool) -> None:
    if graceful:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):  # the group is gone already
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def wait_for_state(runtime: object, version_id: int, states: set[str], timeout: float = 120) -> str:
    """Poll the database until the version reaches one of ``states``; return it."""
    from mam.models import Version

    deadline = time.monotonic() + timeout
    state = "?"
    while time.monotonic() < deadline:
        with runtime.db.session() as session:  # type: ignore[attr-defined]
            version = session.get(Version, version_id)
            state = version.state.value if version else "missing"
        if state in states:
            return state
        time.sleep(0.3)
    raise TimeoutError(f"version {version_id} still {state} after {timeout}s")
