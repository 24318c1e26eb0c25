"""What can be checked of the image without a Docker engine: files, YAML, roles, commands."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import click
import pytest
import yaml

from mam.cli import cli

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}  # fmt: skip
ROLES = ("web", "worker", "beat", "migrate", "check")


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DOCKER / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", text)
    rows = []
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        rows.append((word.upper(), rest.strip()))
    return rows


def test_dockerfile_parses_and_copies_files_that_exist() -> None:
    rows = dockerfile_instructions()
    assert {word for word, _ in rows} <= INSTRUCTIONS
    for word, rest in rows:
        if word != "COPY" or "--from=" in rest:
            continue
        sources = [a for a in shlex.split(rest) if not a.startswith("--")][:-1]
        for src in sources:
            assert (ROOT / src).exists(), f"COPY {src}: no such file in the repository"
    runs = " ".join(rest for word, rest in rows if word == "RUN")
    assert "requirements/prod.txt" in " ".join(rest for w, rest in rows if w == "COPY")
    assert "--require-hashes" in runs  # installs from the lock
    assert runs.count("mam check") == 2  # in the build stage and in the final image


def test_dockerignore_keeps_what_the_build_copies() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for needed in ("requirements", "setup.py", "MANIFEST.in", "web/translations"):
        assert needed not in ignored


def test_compose_file_is_valid_yaml_with_health_checks() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    for role in ("migrate", "web", "worker", "beat"):
        assert services[role]["command"][0] in ROLES
    web = services["web"]["healthcheck"]["test"]
    assert any("/readyz" in part for part in web)
    assert services["flower"]["profiles"] == ["monitoring"]
    entry = (DOCKER / "entrypoint.sh").read_text()
    assert "/healthz" in entry and "/login" not in entry


@pytest.fixture
def stub_mam(tmp_path: Path) -> Path:
    """A `mam` on PATH that records its arguments (one per line) instead of running."""
    out = tmp_path / "argv"
    stub = tmp_path / "bin" / "mam"
    stub.parent.mkdir()
    stub.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > {out}\n')
    stub.chmod(0o755)
    return out


@pytest.mark.parametrize("role", ROLES)
def test_every_role_runs_a_mam_command_that_parses(role: str, stub_mam: Path) -> None:
    env = {"PATH": f"{stub_mam.parent / 'bin'}:{os.environ['PATH']}", "HOME": str(stub_mam.parent)}
    subprocess.run(["sh", str(DOCKER / "entrypoint.sh"), role], env=env, check=True, timeout=30)
    argv = stub_mam.read_text().splitlines()
    command: click.Command = cli
    rest = list(argv)
    name = "mam"
    while isinstance(command, click.Group):
        name, *rest = rest
        sub = command.commands.get(name)
        assert sub is not None, f"{role}: `mam {' '.join(argv)}`: no command {name!r}"
        command = sub
    ctx = command.make_context(name, rest)  # raises on an unknown option or a bad value
    if role == "web":
        assert ctx.args == ["--worker-tmp-dir", "/dev/shm"]  # noqa: S108 - passed on to gunicorn
        assert ctx.params["host"] == "0.0.0.0" and ctx.params["threads"] == 4  # noqa: S104


def test_entrypoint_is_valid_sh() -> None:
    subprocess.run(["sh", "-n", str(DOCKER / "entrypoint.sh")], check=True)
