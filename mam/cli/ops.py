"""``mam db``, ``mam users``, ``mam worker``, ``mam web``, ``mam demo`` and ``mam run``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import click

from mam import migrate
from mam.cli import Context, cli, domain_errors, pass_ctx
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
    click.echo(f"database at revision {migrate.current(ctx.settings.database_url)}")


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
    with domain_errors(), ctx.runtime.db.session() as session:
        user = UserService(session).create(
            username,
            password,
            parse_roles(roles),
            display_name=display_name,
            county_code=county_code,
        )
        click.echo(
            f"user {user.username} created with roles "
            f"{', '.join(sorted(r.value for r in user.roles))}"
        )


@users.command("roles")
@click.argument("username")
@click.argument("roles", nargs=-1, required=True)
@pass_ctx
def users_roles(ctx: Context, username: str, roles: tuple[str, ...]) -> None:
    """Replace USERNAME's roles with ROLES."""
    with domain_errors(), ctx.runtime.db.session() as session:
        service = UserService(session)
        user = service.by_username(username)
        if user is None:
            raise click.ClickException(f"no user {username!r}")
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
    with domain_errors(), ctx.runtime.db.session() as session:
        service = UserService(session)
        user = service.by_username(username)
        if user is None:
            raise click.ClickException(f"no user {username!r}")
        chosen = None
        if not generate:
            chosen = click.prompt(
                f"new password for {username}", hide_input=True, confirmation_prompt=True
            )
        password = service.reset_password(user, actor=None, password=chosen)
        if generate:
            click.echo(f"temporary password for {username}: {password}")
            click.echo("it must be changed at the next sign-in; it is not shown again")
        else:
            click.echo(f"password of {username} changed")
        click.echo("every session of this account has been signed out")


def worker_argv(concurrency: int, beat: bool, loglevel: str = "INFO") -> list[str]:
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
def worker(concurrency: int, beat: bool, loglevel: str) -> None:
    """Start a Celery worker on the configured broker."""
    argv = worker_argv(concurrency, beat, loglevel)
    os.execv(argv[0], argv)


@cli.command()
@click.option("--host", default=None, help="Default: MAM_WEB_HOST (127.0.0.1).")
@click.option("--port", type=int, default=None, help="Default: MAM_WEB_PORT (5000).")
@pass_ctx
def web(ctx: Context, host: str | None, port: int | None) -> None:
    """Serve the web interface with Flask's server (production: gunicorn)."""
    from web import create_app  # noqa: PLC0415 - mam does not need flask otherwise

    app = create_app()
    app.run(
        host=host or ctx.settings.web_host,
        port=port or ctx.settings.web_port,
        threaded=True,
        use_reloader=False,
    )


@cli.command()
@pass_ctx
def demo(ctx: Context) -> None:
    """Create the demo accounts and a demo clip if the catalogue is empty."""
    from mam.demo import ensure_demo  # noqa: PLC0415

    with domain_errors():
        ensure_demo(ctx.runtime, ctx.queue(), echo=click.echo)


@cli.command()
@click.option("--concurrency", "-c", type=int, default=1, show_default=True)
@pass_ctx
def run(ctx: Context, concurrency: int) -> None:
    """Migrate, create the demo, then run web and worker until Ctrl-C stops both."""
    from mam.demo import ensure_demo  # noqa: PLC0415
    from web import create_app  # noqa: PLC0415

    settings = ctx.settings
    migrate.upgrade(settings.database_url)
    with domain_errors():
        ensure_demo(ctx.runtime, ctx.queue(), echo=click.echo)

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    # Ctrl-C, and also SIGTERM from a service manager; SIGINT may arrive ignored when
    # started in the background, so install the handlers explicitly.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    proc = subprocess.Popen(worker_argv(concurrency, beat=True))
    stopping = threading.Event()

    def watch_worker() -> None:
        proc.wait()
        if not stopping.is_set():
            click.secho(f"worker exited with status {proc.returncode}; stopping", err=True)
            os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch_worker, daemon=True).start()
    url = f"http://{settings.web_host}:{settings.web_port}/"
    click.secho(f"\n  web: {url}   (Ctrl-C stops web and worker)\n", fg="green")
    try:
        create_app().run(
            host=settings.web_host, port=settings.web_port, threaded=True, use_reloader=False
        )
    except KeyboardInterrupt:
        pass
    finally:
        stopping.set()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        click.echo("stopped web and worker")
