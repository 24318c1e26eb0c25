"""Build the project's wheel from what a clean checkout of the working tree holds."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Tracked and new files, without anything git ignores: the compiled .mo, .venv, var, build.
CHECKOUT_FILES = ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"]


def tracked_files() -> list[str]:
    """Return the paths a clean checkout of the working tree would contain."""
    out = subprocess.run(CHECKOUT_FILES, cwd=ROOT, check=True, capture_output=True).stdout
    return sorted(p for p in out.decode().split("\0") if p and (ROOT / p).is_file())


def clean_checkout(dest: Path) -> Path:
    """Copy the working tree's checkout files (no .mo, no build leftovers) into ``dest``."""
    for rel in tracked_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    return dest


def build_wheel(dest: Path) -> Path:
    """Build the wheel from a clean checkout copy (build isolation, as pip does) into ``dest``."""
    src = clean_checkout(dest / "src")
    out = dest / "dist"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = out.glob("edufilm_mam-*.whl")
    return wheel
