"""Back up and restore an installation: its database and its storage.

A backup folder holds ``backup.json`` (what, when, from which revision), the database
(``mam.db`` through SQLite's online backup API, or ``database.pgdump`` from ``pg_dump``),
``manifest.jsonl`` (every stored object: key, size, SHA-256) and, for local storage or
when asked, the objects themselves under ``objects/``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url

from mam import migrate
from mam.errors import Conflict, InvalidInput
from mam.i18n import N_
from mam.models import Asset, Version, utcnow
from mam.models.release import ReleasePackage
from mam.runtime import Runtime
from storage import ObjectNotFound

FORMAT = 1
BLOCK = 1 << 20
Echo = Callable[[str], object]


@dataclass
class BackupSummary:
    database: str
    objects: int
    bytes: int
    copied: int


def _libpq(url: str) -> tuple[str, str | None]:
    """Return a libpq URL for pg_dump/pg_restore and the schema named by search_path."""
    parsed = make_url(url)
    schema = None
    options = parsed.query.get("options")
    if options:
        text = options if isinstance(options, str) else options[0]
        for part in unquote(text).split():
            if part.startswith("-csearch_path="):
                schema = part.split("=", 1)[1].split(",")[0]
    plain = parsed.set(drivername="postgresql").difference_update_query(["options"])
    return plain.render_as_string(hide_password=False), schema


def _known_checksums(rt: Runtime) -> dict[str, str]:
    """Return the SHA-256 the database records for originals and packages, by key."""
    with rt.db.session() as session:
        known = dict(session.execute(select(Asset.storage_key, Asset.sha256)).all())
        for key, sha in session.execute(
            select(ReleasePackage.storage_key, ReleasePackage.sha256).where(
                ReleasePackage.storage_key.is_not(None)
            )
        ).all():
            if key and sha:
                known[key] = sha
    return known


def _copy_out(rt: Runtime, key: str, dest: Path) -> tuple[str, int]:
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with rt.storage.open(key) as src, dest.open("wb") as out:
        while chunk := src.read(BLOCK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def backup(
    rt: Runtime, dest: Path, *, with_objects: bool | None = None, echo: Echo = print
) -> BackupSummary:
    """Write a backup of ``rt``'s database and storage into the empty folder ``dest``."""
    if dest.exists() and any(dest.iterdir()):
        raise Conflict(
            N_("%(path)s is not empty; back up into a new folder"), params={"path": str(dest)}
        )
    dest.mkdir(parents=True, exist_ok=True)
    settings = rt.settings
    copy = settings.storage_backend == "local" if with_objects is None else with_objects
    database = _dump_database(rt, dest)
    echo(f"database: {database}")
    known = _known_checksums(rt)
    count = total = copied = 0
    with (dest / "manifest.jsonl").open("w", encoding="utf-8") as manifest:
        for info in rt.storage.list(""):
            entry: dict[str, Any] = {
                "key": info.key,
                "size": info.size,
                "sha256": known.get(info.key),
            }
            if copy:
                sha, size = _copy_out(rt, info.key, dest / "objects" / info.key)
                if entry["sha256"] and entry["sha256"] != sha:
                    echo(
                        f"warning: {info.key}: SHA-256 {sha}, recorded {entry['sha256']}"
                    )
                entry.update(sha256=sha, size=size)
                copied += 1
            manifest.write(json.dumps(entry, ensure_ascii=False) + "\n")
            count += 1
            total += entry["size"]
    meta = {
        "format": FORMAT,
        "created_at": utcnow().isoformat(),
        "database": database,
        "revision": migrate.current(settings.database_url),
        "storage_backend": settings.storage_backend,
        "objects": count,
        "bytes": total,
        "objects_copied": copy,
    }
    (dest / "backup.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    echo(
        f"storage: {count} objects, {total:,} bytes" + (" (copied)" if copy else " (manifest only)")
    )
    return BackupSummary(database, count, total, copied)


def _dump_database(rt: Runtime, dest: Path) -> str:
    url = make_url(rt.settings.database_url)
    if url.get_backend_name() == "sqlite":
        target = dest / "mam.db"
        src = sqlite3.connect(str(url.database))
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)  # consistent while web and workers keep writing
        finally:
            dst.close()
            src.close()
        return "sqlite"
    libpq, schema = _libpq(rt.settings.database_url)
    argv = [
        "pg_dump",
        "--format=custom",
        "--no-owner",
        "--no-privileges",
        "-f",
        str(dest / "database.pgdump"),
    ]
    if schema:
        argv += ["--schema", schema]
    _run([*argv, libpq])
    return "postgresql"


def _run(argv: list[str]) -> None:
    if shutil.which(argv[0]) is None:
        raise InvalidInput(
            N_("%(tool)s is not installed (PostgreSQL client tools)"), params={"tool": argv[0]}
        )
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=6 * 3600)
    if proc.returncode != 0:
        raise InvalidInput(
            N_("%(tool)s failed: %(error)s"),
            params={"tool": argv[0], "error": proc.stderr.strip()[-2000:]},
        )


def _entries(src: Path) -> Iterator[dict[str, Any]]:
    with (src / "manifest.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _empty(rt: Runtime) -> bool:
    with rt.db.engine.connect() as conn:
        if "version" not in inspect(conn).get_table_names():
            return True
    with rt.db.session() as session:
        return not session.scalar(select(func.count(Version.id)))


def restore(rt: Runtime, src: Path, *, echo: Echo = print) -> dict[str, int]:
    """Restore the backup in ``src`` into ``rt``'s empty installation; verify every object."""
    meta_path = src / "backup.json"
    if not meta_path.is_file():
        raise InvalidInput(
            N_("%(path)s is not a backup (no backup.json)"), params={"path": str(src)}
        )
    meta = json.loads(meta_path.read_text())
    if not _empty(rt):
        raise Conflict(N_("the installation already has a catalogue; restore into an empty one"))
    _restore_database(rt, src, meta)
    echo(f"database: {meta['database']} at revision {meta['revision']}")
    migrate.upgrade(rt.settings.database_url)  # a backup from an older release catches up
    counts = {"restored": 0, "present": 0, "missing": 0, "damaged": 0}
    for entry in _entries(src):
        key, sha = entry["key"], entry.get("sha256")
        copy = src / "objects" / key
        if copy.is_file():
            with copy.open("rb") as fh:
                ok = not sha or hashlib.file_digest(fh, "sha256").hexdigest() == sha
            if not ok:
                counts["damaged"] += 1
                echo(f"damaged in the backup: {key}")
                continue
            rt.storage.put_file(key, copy)
            counts["restored"] += 1
            continue
        try:
            present = rt.storage.size(key) == entry["size"]
        except ObjectNotFound:
            present = False
        counts["present" if present else "missing"] += 1
        if not present:
            echo(f"missing from storage: {key}")
    echo(
        f"storage: {counts['restored']} restored, {counts['present']} already there, "
        f"{counts['missing']} missing, {counts['damaged']} damaged"
    )
    return counts


def _restore_database(rt: Runtime, src: Path, meta: dict[str, Any]) -> None:
    url = make_url(rt.settings.database_url)
    backend = url.get_backend_name()
    if meta["database"] != ("sqlite" if backend == "sqlite" else "postgresql"):
        raise InvalidInput(
            N_("the backup holds a %(kind)s database; this installation uses %(here)s"),
            params={"kind": meta["database"], "here": backend},
        )
    if backend == "sqlite":
        rt.db.dispose()
        source = sqlite3.connect(str(src / "mam.db"))
        target = sqlite3.connect(str(url.database))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return
    libpq, schema = _libpq(rt.settings.database_url)
    if schema:  # the dump recreates its schema: drop the empty one first
        with rt.db.engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    else:
        with rt.db.engine.begin() as conn:
            for table in reversed(inspect(conn).get_table_names()):
                conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')
    rt.db.dispose()
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "-d",
            libpq,
            str(src / "database.pgdump"),
        ]
    )
