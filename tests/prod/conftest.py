"""Fixtures of the production-parity tests: the wheel, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.prod.wheel import build_wheel


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from a clean copy of the working tree."""
    return build_wheel(tmp_path_factory.mktemp("wheel"))
