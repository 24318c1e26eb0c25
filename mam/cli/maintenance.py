"""``mam fixity`` (the storage audit), ``mam backup DEST`` and ``mam restore SRC``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import func, select

from mam.backup import backup as run_backup
from mam.backup import restore as run_restore
from mam.cli import Context, _, cli, domain_errors, pass_ctx
from mam.models.fixity import FixityCheck, FixityObject
from mam.services.fixity import FixityAudit
from mam.services.notify import make_notifier


@cli.group(invoke_without_command=True)
@click.pass_context
def fixity(click_ctx: click.Context) -> None:
    """Report the fixity audit: objects under audit, results, damaged objects."""
    if click_ctx.invoked_subcommand is not None:
        return
    ctx = click_ctx.ensure_object(Context)
    with ctx.unit_of_work() as session:
        audit = FixityAudit(session, ctx.runtime.storage)
        audit.enrol()
        session.flush()
        total = session.scalar(select(func.count()).select_from(FixityObject)) or 0
        never = session.scalar(
            select(func.count()).select_from(FixityObject).where(
                FixityObject.last_checked_at.is_(None)
            )
        ) or 0  # fmt: skip
        last = session.scalar(select(func.max(FixityCheck.checked_at)))
        click.echo(
            _("%(total)s objects under audit, %(never)s never checked; last check: %(last)s",
              total=total, never=never, last=last or "-")
        )  # fmt: skip
        for result, n in session.execute(
            select(FixityObject.last_result, func.count()).group_by(FixityObject.last_result)
        ).all():
            click.echo(f"  {result.value if result else _('unchecked'):<10} {n}")
        damaged = audit.damaged()
        for obj in damaged:
            click.secho(
                f"  DAMAGED {obj.kind} {obj.storage_key} ({obj.last_result})", fg="red", err=True
            )
    sys.exit(1 if damaged else 0)


@fixity.command("run")
@click.option("--bytes", "budget", type=int, default=None,
              help="Read at most this many bytes (default MAM_FIXITY_BYTES_PER_RUN).")  # fmt: skip
@click.option("--all", "everything", is_flag=True, help="Check every object now.")
@pass_ctx
def fixity_run(ctx: Context, budget: int | None, everything: bool) -> None:
    """Re-hash stored objects now; exit 1 if any is changed or missing."""
    settings = ctx.settings
    limit = sys.maxsize if everything else budget or settings.fixity_bytes_per_run
    with ctx.unit_of_work() as session:
        notifier = make_notifier(settings.smtp_url, settings.mail_from)
        audit = FixityAudit(session, ctx.runtime.storage, notifier=notifier)
        run = audit.run(limit)
        session.flush()
        for check in run.checked:
            colour = None if check.result.value == "ok" else "red"
            click.secho(f"{check.result.value:<9} {check.kind:<8} {check.storage_key}", fg=colour)
        click.echo(
            _("%(n)s objects, %(bytes)s bytes checked", n=len(run.checked), bytes=f"{run.bytes:,}")
        )
    sys.exit(1 if run.problems else 0)


@cli.command()
@click.argument("dest", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--with-objects/--manifest-only",
    default=None,
    help="Copy the stored objects too (default: yes for local storage, no for S3).",
)
@pass_ctx
def backup(ctx: Context, dest: Path, with_objects: bool | None) -> None:
    """Back up the database and a storage manifest (with checksums) into the folder DEST."""
    with domain_errors():
        run_backup(ctx.runtime, dest, with_objects=with_objects, echo=click.echo)
    click.echo(_("backup written to %(dest)s", dest=dest))


@cli.command()
@click.argument("src", type=click.Path(path_type=Path, exists=True, file_okay=False))
@pass_ctx
def restore(ctx: Context, src: Path) -> None:
    """Restore a backup from SRC into this (empty) installation and verify its objects."""
    with domain_errors():
        counts = run_restore(ctx.runtime, src, echo=click.echo)
    sys.exit(1 if counts["missing"] or counts["damaged"] else 0)
