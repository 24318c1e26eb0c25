"""``mam releases``: release sets and their package builds."""

from __future__ import annotations

import time

import click
from sqlalchemy import select

from mam.audit import ObjectType
from mam.cli import Context, _, cli, domain_errors, no_user, pass_ctx, state_name
from mam.models.release import PackageState, ReleasePackage, ReleaseSet
from mam.services.releases import ReleaseService
from mam.services.users import UserService


@cli.group(invoke_without_command=True)
@click.pass_context
def releases(click_ctx: click.Context) -> None:
    """List release sets with their package builds (``mam releases show ID --follow``)."""
    if click_ctx.invoked_subcommand is not None:
        return
    ctx = click_ctx.ensure_object(Context)
    with ctx.unit_of_work() as session:
        rows = session.scalars(select(ReleaseSet).order_by(ReleaseSet.id.desc())).all()
        if not rows:
            click.echo(_("no release sets"))
        for r in rows:
            packages = " ".join(
                f"{_kind(p)}:{state_name(ObjectType.PACKAGE, p.state.value)}"
                for p in r.packages
            )
            state = state_name(ObjectType.RELEASE_SET, r.state.value)
            episodes = _("%(n)s episodes", n=f"{len(r.items):>3}")
            click.echo(f"#{r.id:<4} {state:<9} {episodes}  {r.name}  {packages}")


def _kind(package: ReleasePackage) -> str:
    """Return ``tv`` for a shared package, ``tv/a`` for county a's own."""
    return package.kind.value + (f"/{package.county.code}" if package.county else "")


def _print_packages(release: ReleaseSet) -> bool:
    """Print package progress; return True while any build is unfinished."""
    busy = False
    for p in release.packages:
        size = f"{p.size:,} B sha256 {p.sha256}" if p.size else ""
        err = f" — {p.last_error}" if p.last_error else ""
        state = state_name(ObjectType.PACKAGE, p.state.value)
        click.echo(f"  {_kind(p):<9} {state:<9} {p.progress:5.1f}% {size}{err}")
        busy |= p.state in (PackageState.QUEUED, PackageState.BUILDING)
    return busy


@releases.command("show")
@click.argument("release_id", type=int)
@click.option("--follow", is_flag=True, help="Refresh until every package is built.")
@pass_ctx
def show(ctx: Context, release_id: int, follow: bool) -> None:
    """Show a release set's episodes and package build progress."""
    while True:
        with domain_errors(), ctx.unit_of_work() as session:
            release = ReleaseService(session).get(release_id)
            click.echo(
                f"{release.name} ({state_name(ObjectType.RELEASE_SET, release.state.value)})"
            )
            for item in release.items:
                click.echo(
                    f"  《{item.episode.programme.name}》 {item.episode.title} "
                    f"v{item.version.number}"
                )
            busy = _print_packages(release)
        if not (follow and busy):
            return
        time.sleep(2)


@releases.command("rebuild")
@click.argument("package_id", type=int)
@click.option("--as-user", "as_user", required=True, help="Publisher account.")
@pass_ctx
def rebuild(ctx: Context, package_id: int, as_user: str) -> None:
    """Queue a failed package build again."""
    with domain_errors(), ctx.unit_of_work() as session:
        actor = UserService(session).by_username(as_user)
        if actor is None:
            raise no_user(as_user)
        ReleaseService(session).rebuild_package(package_id, actor)
        click.echo(_("package %(id)s queued again", id=package_id))
