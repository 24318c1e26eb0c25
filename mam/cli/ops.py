"""``mam db``, ``mam users`` and ``mam worker`` (``mam web``/``run``/``beat``: mam/cli/serve.py)."""

from __future__ import annotations

import os
import sys

import click

from mam import migrate
from mam.cli import Context, _, cli, domain_errors, no_user, pass_ctx
from mam.services.users import UserService, parse_roles


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
@pass_ctx
def db_upgrade(ctx: Context, revision: str) -> None:
    """Apply the migrations up to REVISION."""
    migrate.upgrade(ctx.settings.database_url, revision)
    click.echo(
        _("database at revision %(revision)s",
          revision=migrate.current(ctx.settings.database_url))
    )  # fmt: skip


@cli.group()
def users() -> None:
    """Accounts and roles."""


@users.command("add")
@click.argument("username")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="producer, reviewer, publisher, county or admin (repeatable).",
)
@click.option("--name", "display_name", help="Display name, e.g. 张编导.")
@click.option("--county", "county_code", help="County code (county accounts).")
@click.password_option(help="Prompted for when not given.")
@pass_ctx
def users_add(
    ctx: Context,
    username: str,
    roles: tuple[str, ...],
    display_name: str | None,
    county_code: str | None,
    password: str,
) -> None:
    """Create an account."""
    with domain_errors(), ctx.unit_of_work() as session:
        user = UserService(session).create(
            username,
            password,
            parse_roles(roles),
            display_name=display_name,
            county_code=county_code,
        )
        click.echo(
            _("user %(name)s created with roles %(roles)s", name=user.username,
              roles=", ".join(sorted(r.value for r in user.roles)))
        )  # fmt: skip


@users.command("roles")
@click.argument("username")
@click.argument("roles", nargs=-1, required=True)
@pass_ctx
def users_roles(ctx: Context, username: str, roles: tuple[str, ...]) -> None:
    """Replace USERNAME's roles with ROLES."""
    with domain_errors(), ctx.unit_of_work() as session:
        service = UserService(session)
        user = service.by_username(username)
        if user is None:
            raise no_user(username)
        service.set_roles(user, parse_roles(roles))
        click.echo(f"{username}: {', '.join(sorted(r.value for r in user.roles))}")


@users.command("passwd")
@click.argument("username")
@click.option(
    "--generate",
    is_flag=True,
    help="Make a random temporary password (printed once); it must be changed at sign-in.",
)
@pass_ctx
def users_passwd(ctx: Context, username: str, generate: bool) -> None:
    """Set USERNAME's password (prompted twice) and sign them out everywhere."""
    with domain_errors(), ctx.unit_of_work() as session:
        service = UserService(session)
        user = service.by_username(username)
        if user is None:
            raise no_user(username)
        chosen = None
        if not generate:
            chosen = click.prompt(
                _("new password for %(name)s", name=username), hide_input=True,
                confirmation_prompt=True,
            )  # fmt: skip
        password = service.reset_password(user, actor=None, password=chosen)
        if generate:
            click.echo(
                _("temporary password for %(name)s: %(password)s", name=username,
                  password=password)
            )  # fmt: skip
            click.echo(_("it must be changed at the next sign-in; it is not shown again"))
        else:
            click.echo(_("password of %(name)s changed", name=username))
        click.echo(_("every session of this account has been signed out"))


def worker_argv(
    concurrency: int, beat: bool, loglevel: str = "INFO", hostname: str | None = None
) -> list[str]:
    """Return the command line of a Celery worker on both queues."""
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.main",
        "worker",
        "-Q",
        "transcode,default",
        "--concurrency",
        str(concurrency),
        "--loglevel",
        loglevel,
        "--without-gossip",
        "--without-mingle",
    ]
    if beat:
        argv.append("--beat")
    if hostname:
        argv += ["--hostname", hostname]
    return argv


@cli.command()
@click.option("--concurrency", "-c", type=int, default=2, show_default=True)
@click.option(
    "--beat/--no-beat",
    default=True,
    show_default=True,
    help="Also run the scheduler (job reconciler). Run it in one worker only.",
)
@click.option("--loglevel", default="INFO", show_default=True)
@click.option("--hostname", "-n", default=None, help="Node name, e.g. worker1@%h (Celery's -n).")
def worker(concurrency: int, beat: bool, loglevel: str, hostname: str | None) -> None:
    """Start a Celery worker on the configured broker."""
    argv = worker_argv(concurrency, beat, loglevel, hostname)
    os.execv(argv[0], argv)
