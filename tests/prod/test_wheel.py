"""The wheel carries every file the code reads at run time, and nothing of the sources."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from babel.messages.mofile import read_mo

from mam import migrate
from tests.prod.wheel import ROOT, tracked_files
from web import TRANSLATIONS
from workers import profiles

PACKAGES = ("mam/", "workers/", "web/", "storage/")
# Sources for developers, never read by the installed code.
NOT_SHIPPED = ("web/translations/", "workers/README.md")


def shipped_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return {n for n in zf.namelist() if ".dist-info/" not in n}


def expected_names() -> set[str]:
    """Every package file of the checkout, less the sources; plus each compiled catalogue."""
    files = [f for f in tracked_files() if f.startswith(PACKAGES)]
    names = {f for f in files if not f.startswith(NOT_SHIPPED)}
    names |= {
        f.removesuffix(".po") + ".mo"
        for f in files
        if f.startswith("web/translations/") and f.endswith(".po")
    }
    return names


def rel(path: Path) -> str:
    return path.resolve().relative_to(ROOT).as_posix()


def test_wheel_file_list_matches_what_the_code_reads(wheel: Path) -> None:
    names = shipped_names(wheel)
    assert names == expected_names(), (
        f"missing from the wheel: {sorted(expected_names() - names)}; "
        f"shipped but not expected: {sorted(names - expected_names())}"
    )
    # The files the code opens by path, named one by one (each was missing once).
    assert rel(profiles.SHIPPED) in names
    assert f"{rel(migrate.MIGRATIONS)}/env.py" in names
    assert f"{rel(migrate.MIGRATIONS)}/script.py.mako" in names
    assert any(n.startswith(f"{rel(migrate.MIGRATIONS)}/versions/") for n in names)
    assert f"{rel(TRANSLATIONS)}/zh_Hans_CN/LC_MESSAGES/messages.mo" in names
    assert {"web/templates/base.html", "web/static/app.css"} <= names
    sources = ("merge_pending.py", ".po", ".pot")
    assert not any("/pending/" in n or n.endswith(sources) for n in names)


def test_the_compiled_catalogue_in_the_wheel_translates(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        data = zf.read("web/translations/zh_Hans_CN/LC_MESSAGES/messages.mo")
    catalog = read_mo(io.BytesIO(data))
    translated = [m for m in catalog if m.id and m.string]
    assert len(translated) > 100
    message = catalog.get("Sign in")
    assert message is not None and message.string == "登录"


def test_entry_point_is_the_mam_cli(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        (ep,) = [n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt")]
        text = zf.read(ep).decode()
    assert "mam = mam.cli:main" in text
