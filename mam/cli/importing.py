"""``mam import`` (batch import from a manifest), ``mam search`` and ``mam uploads``."""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path

import click

from mam import search as search_mod
from mam.cli import Context, _, cli, domain_errors, no_user, pass_ctx
from mam.config import cli_locale
from mam.errors import InvalidInput
from mam.i18n import N_, render, translator
from mam.models import User
from mam.services.importer import Importer, Outcome, Plan, stable_files
from mam.services.subtitles import reindex_subtitles
from mam.services.uploads import UploadService
from mam.services.users import UserService


def _uploader(ctx: Context, session: object, as_user: str | None) -> User | None:
    if not as_user:
        return None
    user = UserService(session).by_username(as_user)  # type: ignore[arg-type]
    if user is None:
        raise no_user(as_user)
    return user


ALREADY_VERSION = N_("already version id %(id)s")
# What became of a manifest line (Outcome.status).
STATUSES = {
    "imported": N_("imported"), "skipped": N_("skipped"), "failed": N_("failed"),
    "would import": N_("would import"), "would skip": N_("would skip"),
}  # fmt: skip


def _table(outcomes: list[Outcome]) -> None:
    translate = translator(cli_locale())
    width = max([len(o.file) for o in outcomes] + [4])
    click.echo(f"{_('line'):>5}  {_('file'):<{width}}  {_('result'):<13} {_('detail')}")
    for o in outcomes:
        colour = {"failed": "red", "imported": "green"}.get(o.status)
        status = click.style(f"{_(STATUSES.get(o.status, o.status)):<13}", fg=colour)
        detail = render(o.said[0], o.said[1], translate) if o.said else o.detail
        click.echo(f"{o.line:>5}  {o.file:<{width}}  {status} {detail}")
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    click.echo(
        _("summary: %(counts)s", counts=", ".join(
            f"{n} {_(STATUSES.get(s, s))}" for s, n in sorted(counts.items())
        ))
    )  # fmt: skip


def _plan(importer: Importer, directory: Path, manifest: Path, uploader: User | None) -> Plan:
    with click.progressbar(length=0, label=_("checking files"), file=sys.stderr) as bar:
        plan = importer.plan(
            directory, manifest, on_file=lambda _row: bar.update(1), uploader=uploader
        )
    click.echo(
        _("manifest %(name)s: %(n)s rows, encoding %(encoding)s", name=manifest.name,
          n=len(plan.rows), encoding=plan.encoding)
    )  # fmt: skip
    return plan


@cli.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--manifest",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV (UTF-8, UTF-8 with BOM or GBK) or JSON describing the files.",
)
@click.option("--dry-run", is_flag=True, help="Check everything and list problems; import nothing.")
@click.option("--watch", is_flag=True, help="Keep watching DIRECTORY; import files once stable.")
@click.option("--programme", help="With --watch and no manifest: the programme of every file.")
@click.option("--create-programmes", is_flag=True, help="Create programmes the library lacks.")
@click.option(
    "--as-user",
    "as_user",
    help="Act as this user: the uploader, held to their edit rights (else: the system).",
)
@click.option("--interval", type=float, default=10.0, show_default=True, help="Watch poll (s).")
@click.option("--cycles", type=int, default=0, hidden=True, help="Stop watching after N polls.")
@pass_ctx
def import_(
    ctx: Context,
    directory: Path,
    manifest: Path | None,
    dry_run: bool,
    watch: bool,
    programme: str | None,
    create_programmes: bool,
    as_user: str | None,
    interval: float,
    cycles: int,
) -> None:
    """Import the films in DIRECTORY described by --manifest.

    \b
    Manifest: CSV (UTF-8, UTF-8 with BOM, or GBK as saved by Chinese Excel) or JSON
    (a list of objects, or {"episodes": [...]}). Columns, English or Chinese names:
      file/文件, programme/栏目, title/标题        required
      number/集号, synopsis/简介, source/来源 (self 自制 | imported 引进 | general
      省市通用教材), topics/主题 (separated by , 、 ;), producer/制片,
      production_date/摄制日期, language/语言, rights_holder/版权方,
      rights_expiry/版权到期, keywords/关键词, subtitle/字幕 (.srt/.vtt file)
    The whole manifest is checked first; any problem stops the import (nothing is
    half-imported). Files already in the library (same SHA-256) are skipped, so
    running an import again is safe. --watch imports files once they stop growing.
    """
    if watch:
        _watch(ctx, directory, manifest, programme, create_programmes, as_user, interval, cycles)
        return
    if manifest is None:
        raise click.UsageError(_("--manifest is required (or use --watch)"))
    rt = ctx.runtime
    with domain_errors(), ctx.unit_of_work() as session:
        importer = Importer(
            session,
            rt.storage,
            create_programmes=create_programmes,
        )
        uploader = _uploader(ctx, session, as_user)
        plan = _plan(importer, directory, manifest, uploader)
        if plan.problems:
            click.secho(
                _("%(n)s problem(s); nothing was imported:", n=len(plan.problems)), fg="red",
                err=True,
            )  # fmt: skip
            for problem in plan.shown(translator(cli_locale())):
                click.echo(f"  {problem}", err=True)
            sys.exit(InvalidInput.exit_code)
        if dry_run:
            _table(
                [
                    Outcome(
                        r.line,
                        r.values["file"],
                        "would skip" if r.existing else "would import",
                        f"already version id {r.existing.id}" if r.existing else "",
                        said=(ALREADY_VERSION, {"id": r.existing.id}) if r.existing else None,
                    )
                    for r in plan.rows
                ]
            )
            return
        with click.progressbar(length=len(plan.rows), label=_("importing"), file=sys.stderr) as bar:
            outcomes = importer.run(plan, uploader, on_row=lambda _o: bar.update(1))
        _table(outcomes)
        if any(o.status == "failed" for o in outcomes):
            sys.exit(1)


def _watch(
    ctx: Context,
    directory: Path,
    manifest: Path | None,
    programme: str | None,
    create_programmes: bool,
    as_user: str | None,
    interval: float,
    cycles: int,
) -> None:
    if manifest is None and not programme:
        raise click.UsageError(_("--watch needs --manifest or --programme"))
    rt = ctx.runtime
    seen: dict[Path, tuple[int, float]] = {}
    done: set[Path] = set()
    click.echo(_("watching %(dir)s (Ctrl-C to stop)", dir=directory))
    n = 0
    while True:
        ready = {p.resolve() for p in stable_files(directory, seen)} - done
        if ready:
            with domain_errors(), ctx.unit_of_work() as session:
                importer = Importer(session, rt.storage, create_programmes=create_programmes)
                target = manifest or _auto_manifest(directory, ready, programme or "")
                uploader = _uploader(ctx, session, as_user)
                plan = importer.plan(directory, target, only=ready, uploader=uploader)
                for problem in plan.shown(translator(cli_locale())):
                    click.secho(f"  {problem}", fg="red", err=True)
                outcomes = importer.run(plan.without_bad_rows(), uploader)
                if outcomes:
                    _table(outcomes)
                done |= {r.path for r in plan.rows if r.path is not None}
        n += 1
        if cycles and n >= cycles:
            return
        time.sleep(interval)


def _auto_manifest(directory: Path, files: set[Path], programme: str) -> Path:
    """Write a manifest for ``files`` (title = file name without extension)."""
    path = directory / ".mam-watch-manifest.json"
    root = directory.resolve()
    rows = [
        {"file": str(p.relative_to(root)), "programme": programme, "title": p.stem}
        for p in sorted(files)
    ]
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return path


@cli.command("search")
@click.argument("words", nargs=-1)
@click.option("--reindex", is_flag=True, help="Rebuild the search index first.")
@click.option("--limit", type=int, default=20, show_default=True)
@pass_ctx
def search_cmd(ctx: Context, words: tuple[str, ...], reindex: bool, limit: int) -> None:
    """Search episodes by Chinese title, synopsis, keywords or programme."""
    with domain_errors(), ctx.unit_of_work() as session:
        if reindex:
            click.echo(_("indexed %(n)s episodes", n=search_mod.reindex_all(session)))
            files = reindex_subtitles(session, ctx.runtime.storage)
            click.echo(_("indexed the cues of %(n)s subtitle files", n=files))
            session.flush()
        result = search_mod.search(
            session, search_mod.SearchQuery(text=" ".join(words), per_page=limit)
        )
        out = csv.writer(sys.stdout, delimiter="\t")
        for ep in result.episodes:
            out.writerow([ep.id, ep.programme.name, ep.title])
        found = (
            _("%(n)s found", n=result.total) if result.total_exact
            else _("more than %(n)s found", n=result.total)
        )  # fmt: skip
        click.echo(found, err=True)


@cli.command("uploads-cleanup")
@pass_ctx
def uploads_cleanup(ctx: Context) -> None:
    """Expire abandoned resumable uploads and delete their staged bytes."""
    rt = ctx.runtime
    staging = rt.settings.upload_staging_dir
    with ctx.unit_of_work() as session:
        count = UploadService(
            session, rt.storage, staging, max_size=rt.settings.max_upload_size
        ).expire()
    click.echo(_("expired %(n)s upload(s)", n=count))
