"""The wheel installed into a venv of its own, and its processes run from outside the tree."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def make_venv(dest: Path, wheel: Path) -> Path:
    """Create a venv at ``dest`` and install the locked dependencies, then the wheel."""
    subprocess.run([sys.executable, "-m", "venv", str(dest)], check=True, timeout=300)
    pip = [str(dest / "bin" / "python"), "-m", "pip", "install", "-q"]
    lock = ROOT / "requirements" / "prod.txt"
    for args in (["--require-hashes", "-r", str(lock)], [str(wheel)]):
        # The second install resolves the wheel's own requirements: a dependency missing
        # from the lock would be installed here, and one missing everywhere would fail.
        proc = subprocess.run(
            [*pip, *args], capture_output=True, text=True, timeout=900, check=False
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return dest


@dataclass
class Installed:
    """Run the installed ``mam`` (and its gunicorn, Celery) in ``cwd`` with ``env``."""

    venv: Path
    cwd: Path
    env: dict[str, str]
    procs: list[tuple[str, subprocess.Popen[str], Path]] = field(default_factory=list)

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def mam(
        self, *args: str, timeout: float = 300, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [self.bin("mam"), *args], cwd=self.cwd, env=self.env, capture_output=True,
            text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if check:
            assert proc.returncode == 0, f"mam {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
        return proc

    def start(self, name: str, *args: str, ready: str | None = None, timeout: float = 120) -> Path:
        """Start ``mam ARGS`` in the background, logging to a file; wait for ``ready``."""
        log = self.cwd / f"{name}.log"
        out = log.open("w")
        proc = subprocess.Popen(
            [self.bin("mam"), *args], cwd=self.cwd, env=self.env, stdout=out,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        out.close()
        self.procs.append((name, proc, log))
        deadline = time.monotonic() + timeout
        while ready is not None and ready not in log.read_text(errors="replace"):
            assert proc.poll() is None, f"{name} exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"{name} not ready:\n{log.read_text()[-3000:]}"
            time.sleep(0.3)
        return log

    def stop_all(self) -> None:
        for _name, proc, _log in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for _name, proc, _log in self.procs:
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def running(installed: Installed) -> Iterator[Installed]:
    try:
        yield installed
    finally:
        installed.stop_all()


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)

