"""CI runs the lint gate before the tests, and the gate covers all four packages."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ci_runs_lint_before_the_tests() -> None:
    commands = [
        line.split("#")[0].strip()
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    ]
    assert "make lint" in commands
    assert commands.index("make lint") < commands.index("make test")
    assert "set -euo pipefail" in commands  # a dirty lint stops the run


def test_lint_covers_broad_except_print_and_the_four_packages() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert {"BLE", "T20"} <= set(config["tool"]["ruff"]["lint"]["select"])
    assert set(config["tool"]["mypy"]["packages"]) == {"mam", "storage", "workers", "web"}
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    lint = re.search(r"^lint:.*?\n((?:\t.*\n)+)", makefile, re.M)
    assert lint is not None
    assert "ruff check mam workers web storage" in lint.group(1)
    assert "mypy" in lint.group(1)
