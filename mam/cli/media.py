"""``mam ingest``, ``mam show`` and ``mam jobs``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from mam.audit import ObjectType
from mam.cli import Context, _, cli, domain_errors, no_user, pass_ctx, say, state_name
from mam.config import cli_locale
from mam.i18n import N_, translator
from mam.models import JobState, SourceType, VersionState
from mam.services.catalogue import CatalogueService, version_dict
from mam.services.ingest import IngestService
from mam.services.processing import ProcessingService
from mam.services.users import UserService

FINAL = {VersionState.READY, VersionState.FAILED}
JOB_KINDS = {"process": N_("process"), "ladder": N_("ladder")}


@cli.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--programme", required=True, help="Programme (column or series), e.g. 时代风采.")
@click.option("--title", required=True, help="Episode title.")
@click.option(
    "--source",
    type=click.Choice([s.value for s in SourceType]),
    default="self",
    show_default=True,
    help="self = 自制, imported = 引进, general = 省市通用教材.",
)
@click.option(
    "--as-user",
    "as_user",
    help="Act as this user: the uploader, held to their edit rights (else: the system).",
)
@click.option("--wait", is_flag=True, help="Wait until processing ends; exit 1 if it failed.")
@click.option("--timeout", type=float, default=None, help="With --wait: give up after N seconds.")
@pass_ctx
def ingest(
    ctx: Context,
    file: Path,
    programme: str,
    title: str,
    source: str,
    as_user: str | None,
    wait: bool,
    timeout: float | None,
) -> None:
    """Catalogue FILE as a new version of an episode and queue its processing."""
    rt = ctx.runtime
    with domain_errors(), ctx.unit_of_work() as session:
        uploader = UserService(session).by_username(as_user) if as_user else None
        if as_user and uploader is None:
            raise no_user(as_user)
        result = IngestService(session, rt.storage).ingest_file(
            file, programme=programme, title=title, source=source, uploader=uploader
        )
        version = result.version
        click.echo(
            _(
                "ingested %(file)s as 《%(programme)s》 %(title)s, version %(number)s "
                "(version id %(id)s, sha256 %(sha)s…); processing queued",
                file=file.name, programme=programme, title=title, number=version.number,
                id=version.id, sha=version.sha256[:12],
            )
        )  # fmt: skip
        version_id = version.id
    if wait:
        sys.exit(_wait_for(ctx, version_id, timeout))


def _wait_for(ctx: Context, version_id: int, timeout: float | None) -> int:
    """Show progress until the version is ready or failed; return the exit code."""
    deadline = None if timeout is None else time.monotonic() + timeout
    started = time.monotonic()
    last = ""
    while True:
        with ctx.unit_of_work() as session:
            version = CatalogueService(session).version(version_id)
            job = version.jobs[-1] if version.jobs else None
            state = version.state
            line = f"  {state_name(ObjectType.VERSION, state.value)}"
            if job is not None:
                line += f" {job.progress:5.1f}%"
                if job.eta_seconds:
                    line += " " + _("eta %(seconds)ss", seconds=f"{job.eta_seconds:.0f}")
                if job.state == JobState.QUEUED and time.monotonic() - started > 10:
                    line += " " + _("(waiting for a worker: is `mam worker` running?)")
            if line != last:
                click.echo(line)
                last = line
            if state in FINAL:
                click.echo(
                    _("version %(id)s: %(state)s", id=version_id,
                      state=state_name(ObjectType.VERSION, state.value))
                    + (f" — {version.failure_reason}" if version.failure_reason else "")
                )  # fmt: skip
                return 0 if state == VersionState.READY else 1
        if deadline is not None and time.monotonic() > deadline:
            click.echo(
                _("version %(id)s: still %(state)s after %(seconds)ss", id=version_id,
                  state=state_name(ObjectType.VERSION, state.value), seconds=f"{timeout:.0f}"),
                err=True,
            )  # fmt: skip
            return 8
        time.sleep(0.5)


@cli.command()
@click.argument("version_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def show(ctx: Context, version_id: int, as_json: bool) -> None:
    """Print a version's state, technical metadata, renditions and jobs."""
    with domain_errors(), ctx.unit_of_work() as session:
        data = version_dict(
            CatalogueService(session).version(version_id), translator(cli_locale())
        )
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    ep = data["episode"]
    click.echo(
        _("《%(programme)s》 %(title)s — version %(number)s (id %(id)s)",
          programme=ep["programme"], title=ep["title"], number=data["number"], id=data["id"])
    )  # fmt: skip
    click.echo(
        _("state:    %(state)s", state=state_name(ObjectType.VERSION, data["state"]))
        + (f" — {_failure(data)}" if data["failure_reason"] else "")
    )
    orig = data["original"]
    click.echo(
        _("original: %(file)s (%(size)s bytes) sha256 %(sha)s", file=orig["filename"],
          size=f"{orig['size']:,}", sha=orig["sha256"])
    )  # fmt: skip
    mi = data["media_info"]
    click.echo(
        _("media:    %(container)s %(seconds)ss", container=mi.get("container"),
          seconds=f"{mi.get('duration', 0):.2f}")
    )  # fmt: skip
    for v in mi.get("video", []):
        click.echo(
            _("  video:  %(codec)s %(width)sx%(height)s SAR %(sar)s DAR %(dar)s %(rate)s fps "
              "%(order)s rotation %(rotation)s", codec=v["codec"], width=v["width"],
              height=v["height"], sar=v["sar"], dar=v["dar"], rate=v["frame_rate"],
              order=v["field_order"], rotation=v["rotation"])
        )  # fmt: skip
    for a in mi.get("audio", []):
        click.echo(
            _("  audio:  %(codec)s %(channels)s ch %(rate)s Hz", codec=a["codec"],
              channels=a["channels"], rate=a["sample_rate"])
        )  # fmt: skip
    click.echo(_("renditions:") if data["renditions"] else _("renditions: none yet"))
    for r in data["renditions"]:
        dims = f"{r['width']}x{r['height']}" if r["width"] else ""
        click.echo(
            f"  {r['profile']:<10} {r['mime_type']:<12} {dims:<10} {r['size']:>12,} B  "
            f"{r['storage_key']}"
        )
    click.echo(_("jobs:"))
    for j in data["jobs"]:
        click.echo(
            f"  #{j['id']} {job_kind_name(j['kind'])} {state_name(ObjectType.JOB, j['state'])} "
            f"{j['progress']:.0f}% " + _("attempts %(n)s", n=j["attempts"])
            + (f" — {j['error']['message']}" if j["error"] else "")
        )


def job_kind_name(kind: str) -> str:
    """Return what a job makes, in the command line's language."""
    return _(JOB_KINDS.get(kind, kind))


def _failure(data: dict[str, Any]) -> str:
    failure = data.get("failure")
    return str(failure["message"] if failure else data["failure_reason"])


@cli.group(invoke_without_command=True)
@click.option("--state", type=click.Choice([s.value for s in JobState]), default=None)
@click.pass_context
def jobs(click_ctx: click.Context, state: str | None) -> None:
    """List recent jobs with their progress (``mam jobs retry ID`` to retry one)."""
    if click_ctx.invoked_subcommand is not None:
        return
    ctx = click_ctx.ensure_object(Context)
    with ctx.unit_of_work() as session:
        rows = CatalogueService(session).jobs(state=state)
        if not rows:
            click.echo(_("no jobs"))
        for job in rows:
            eta = (
                " " + _("eta %(seconds)ss", seconds=f"{job.eta_seconds:.0f}")
                if job.eta_seconds and job.state == JobState.RUNNING
                else ""
            )
            error = say(job.error_code, job.error_params, job.last_error)
            err = f" — {error}" if error else ""
            click.echo(
                f"#{job.id:<5} " + _("version %(id)s", id=f"{job.version_id:<5}")
                + f" {job_kind_name(job.kind.value):<8} "
                f"{state_name(ObjectType.JOB, job.state.value):<9} {job.progress:5.1f}%{eta} "
                + _("attempts %(n)s", n=job.attempts) + err
            )


@jobs.command("retry")
@click.argument("job_id", type=int)
@click.option("--as-user", "as_user", required=True, help="Admin account doing the retry.")
@pass_ctx
def jobs_retry(ctx: Context, job_id: int, as_user: str) -> None:
    """Queue a failed job again."""
    rt = ctx.runtime
    with domain_errors(), ctx.unit_of_work() as session:
        actor = UserService(session).by_username(as_user)
        if actor is None:
            raise no_user(as_user)
        ProcessingService(session, rt.storage).retry(job_id, actor)
        click.echo(_("job %(id)s queued again", id=job_id))
