"""``mam web`` (gunicorn), ``mam beat``, ``mam demo`` and ``mam run`` (the whole system)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import click

from mam import migrate
from mam.cli import Context, _, cli, domain_errors, pass_ctx
from mam.cli.ops import worker_argv

APP = "web:create_app()"
STARTUP_TIMEOUT = 120.0
# Lines of a child's log worth showing on the console (the rest goes to <home>/log/).
LOUD = ("ERROR", "CRITICAL", "Traceback", "cannot start")


def gunicorn_argv(
    host: str,
    port: int,
    *,
    workers: int,
    threads: int,
    timeout: int = 120,
    loglevel: str = "info",
    extra: tuple[str, ...] = (),
) -> list[str]:
    """Return the command line of gunicorn (gthread workers) serving the web app."""
    return [
        sys.executable, "-m", "gunicorn", APP,
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--worker-class", "gthread",
        "--threads", str(threads),
        "--timeout", str(timeout),
        "--graceful-timeout", "30",
        "--log-level", loglevel,
        "--access-logfile", "-",
        *extra,
    ]  # fmt: skip


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--host", default=None, help="Default: MAM_WEB_HOST (127.0.0.1).")
@click.option("--port", type=int, default=None, help="Default: MAM_WEB_PORT (5000).")
@click.option("--workers", "-w", type=int, default=None, help="Processes (WEB_CONCURRENCY, 2).")
@click.option("--threads", type=int, default=None, help="Threads each (WEB_THREADS, 4).")
@click.option("--timeout", type=int, default=None, help="Request timeout, s (WEB_TIMEOUT, 120).")
@click.pass_context
def web(
    click_ctx: click.Context,
    host: str | None,
    port: int | None,
    workers: int | None,
    threads: int | None,
    timeout: int | None,
) -> None:
    """Serve the web interface with gunicorn; further options go to gunicorn."""
    settings = click_ctx.ensure_object(Context).settings
    env = os.environ
    argv = gunicorn_argv(
        host or settings.web_host,
        port or settings.web_port,
        workers=workers or int(env.get("WEB_CONCURRENCY", "2")),
        threads=threads or int(env.get("WEB_THREADS", "4")),
        timeout=timeout or int(env.get("WEB_TIMEOUT", "120")),
        extra=tuple(click_ctx.args),
    )
    os.execv(argv[0], argv)


@cli.command()
@click.option("--loglevel", default="INFO", show_default=True)
def beat(loglevel: str) -> None:
    """Run the scheduler (job reconciler, upload expiry, fixity audit). Run exactly one."""
    argv = [sys.executable, "-m", "celery", "-A", "workers.main", "beat", "--loglevel", loglevel]
    os.execv(argv[0], argv)


@cli.command()
@pass_ctx
def demo(ctx: Context) -> None:
    """Create the demo accounts and a demo clip if the catalogue is empty."""
    from mam.demo import ensure_demo  # noqa: PLC0415

    with domain_errors():
        ensure_demo(ctx.runtime, ctx.queue(), echo=click.echo)


class _Child:
    """A process of ``mam run``: its output goes to a log file, loud lines to the console."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.ready = threading.Event()
        self.log = log
        # A session of its own: Ctrl-C reaches `mam run` only, which stops the children
        # in order (SIGTERM: gunicorn's graceful stop, Celery's warm shutdown).
        self.proc = subprocess.Popen(
            argv,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        self.quiet = threading.Event()
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        if self.proc.stdout is None:
            return
        with self.log.open("a", encoding="utf-8") as out:
            for line in self.proc.stdout:
                out.write(line)
                out.flush()
                if " ready." in line:
                    self.ready.set()
                if any(word in line for word in LOUD) and not self.quiet.is_set():
                    click.echo(f"{self.name}: {line.rstrip()}", err=True)

    def stop(self, timeout: float = 30) -> None:
        self.quiet.set()  # a worker killed mid-task may log its loss; that is expected now
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.thread.join(timeout=5)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "healthz", timeout=2) as response:  # noqa: S310 - http on localhost
            return bool(response.status == 200)
    except OSError:
        return False


def _wait_until_up(url: str, children: list[_Child], stop: threading.Event) -> str | None:
    """Wait for the worker's "ready" and the web's /healthz; return why not, or None."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    web_up = False
    while time.monotonic() < deadline:
        if stop.is_set():
            return "interrupted"
        for child in children:
            if child.proc.poll() is not None:
                return f"{child.name} exited with status {child.proc.returncode} (see {child.log})"
        web_up = web_up or _healthy(url)
        if web_up and all(c.ready.is_set() for c in children if c.name == "worker"):
            return None
        stop.wait(0.3)
    return f"not up after {STARTUP_TIMEOUT:.0f} s (see {children[0].log.parent})"


def _banner(url: str, accounts: list[str], log_dir: Path) -> None:
    rule = "=" * 72
    click.echo(rule)
    click.secho("  " + _("教育影片资源库 is running:  %(url)s", url=url), fg="green", bold=True)
    click.echo("")
    for line in accounts:
        click.echo(f"  {line}")
    click.echo("")
    click.echo(
        "  " + _("logs: %(web)s, %(worker)s", web=log_dir / "web.log",
                 worker=log_dir / "worker.log")
    )  # fmt: skip
    click.echo("  " + _("Ctrl-C stops web and worker"))
    click.echo(rule)


@cli.command()
@click.option("--concurrency", "-c", type=int, default=1, show_default=True)
@click.option("--threads", type=int, default=8, show_default=True, help="Web threads.")
@pass_ctx
def run(ctx: Context, concurrency: int, threads: int) -> None:
    """Migrate, create the demo, then run gunicorn and a worker until Ctrl-C stops both."""
    from mam.demo import ensure_demo  # noqa: PLC0415

    settings = ctx.settings
    migrate.upgrade(settings.database_url)
    accounts: list[str] = []
    with domain_errors():
        ensure_demo(ctx.runtime, ctx.queue(), echo=accounts.append)
    ctx.runtime.close()

    stop = threading.Event()

    def interrupt(_signum: int, _frame: object) -> None:
        stop.set()

    # Ctrl-C, and SIGTERM from a service manager; SIGINT may arrive ignored when started
    # in the background, so install both handlers explicitly.
    previous: list[Callable[..., object] | int | None] = [
        signal.signal(signal.SIGINT, interrupt),
        signal.signal(signal.SIGTERM, interrupt),
    ]
    log_dir = settings.home / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **settings.to_env(), "PYTHONUNBUFFERED": "1"}
    url = f"http://{settings.web_host}:{settings.web_port}/"
    children = [
        _Child("worker", worker_argv(concurrency, beat=True), env, log_dir / "worker.log"),
        _Child(
            "web",
            gunicorn_argv(settings.web_host, settings.web_port, workers=1, threads=threads),
            env,
            log_dir / "web.log",
        ),
    ]
    status = 0
    try:
        problem = _wait_until_up(url, children, stop)
        if problem is None:
            _banner(url, accounts, log_dir)
        elif problem != "interrupted":
            click.secho(f"error: {problem}", fg="red", err=True)
            status = 1
        while problem is None and not stop.wait(0.5):
            gone = next((c for c in children if c.proc.poll() is not None), None)
            if gone is not None:
                click.secho(
                    f"error: {gone.name} exited with status {gone.proc.returncode} "
                    f"(see {gone.log}); stopping",
                    fg="red",
                    err=True,
                )
                status = 1
                break
    finally:
        click.echo(_("stopping web and worker ..."))
        for child in reversed(children):
            child.stop()
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
        click.echo(_("stopped web and worker"))
    sys.exit(status)
