"""The ``mam`` command line."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session

from mam import outbox
from mam.audit import state_label
from mam.config import Settings, cli_locale
from mam.errors import MamError
from mam.i18n import N_, render, translator
from mam.messages import render_stored
from mam.runtime import Runtime, build_runtime

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """Lazily built runtime shared by the subcommands of one invocation."""

    def __init__(self) -> None:
        self._runtime: Runtime | None = None

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            try:
                self._runtime = build_runtime()
            except ValueError as exc:  # a bad MAM_* value
                raise click.ClickException(str(exc)) from exc
        return self._runtime

    def close(self) -> None:
        """Release the runtime's pooled connections (at the end of the command)."""
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None

    def queue(self) -> Any:
        """Return the Celery-backed task queue for this configuration."""
        from workers.celery_app import make_celery  # noqa: PLC0415 - keeps mam free of celery
        from workers.dispatch import CeleryQueue  # noqa: PLC0415

        return CeleryQueue(make_celery(self.settings))

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """Open the command's unit of work: committed at the end (then its outbox is sent to
        the broker), rolled back on error; broker trouble is reported once, on stderr."""
        with self.runtime.db.session(queue=_LazyQueue(self)) as session:
            yield session
        trouble = outbox.queue_trouble(session)
        if trouble is not None:
            click.secho(f"note: {outbox.QUEUE_DELAYED} ({trouble.error})", err=True, fg="yellow")


class _LazyQueue:
    """The broker, connected only if the command enqueues something."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._queue: Any = None

    def _real(self) -> Any:
        if self._queue is None:
            self._queue = self.ctx.queue()
        return self._queue

    def enqueue_processing(self, version_id: int, job_id: int) -> str | None:
        return self._real().enqueue_processing(version_id, job_id)

    def enqueue_package(self, package_id: int) -> str | None:
        return self._real().enqueue_package(package_id)


pass_ctx = click.make_pass_decorator(Context, ensure=True)


def say(code: str | None, params: Mapping[str, object] | None, fallback: str | None) -> str:
    """Return a stored message (code + parameters) in the command line's language."""
    return render_stored(code, params, fallback, translator(cli_locale()))


def _(text: str, **params: object) -> str:
    """Return one of the command line's own lines (an English msgid, extracted into the
    catalogue) in its language, with ``params`` filled in (%-style, by name)."""
    return render(text, params or None, translator(cli_locale()))


def state_name(object_type: str, value: str) -> str:
    """Return the name of a stored state in the command line's language (the names the
    pages show: mam.audit.STATE_LABELS)."""
    return _(state_label(object_type, value))


def no_user(username: str) -> click.ClickException:
    """The refusal of a command given an account that does not exist."""
    return click.ClickException(_("no user %(name)r", name=username))


ERROR = N_("error")


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn domain errors into a one-line message and the error's exit code."""
    try:
        yield
    except MamError as exc:
        translate = translator(cli_locale())
        click.secho(f"{translate(ERROR)}: {exc.translated(translate)}", err=True, fg="red")
        if exc.detail:
            click.secho(f"  ({exc.detail})", err=True)
        sys.exit(exc.exit_code)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
@click.version_option(package_name="edufilm-mam")
@click.pass_context
def cli(click_ctx: click.Context, verbose: bool) -> None:
    """Educational-film library: ingest, processing, review and release (教育影片资源库)."""
    click_ctx.call_on_close(click_ctx.ensure_object(Context).close)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def main() -> None:
    """Run the CLI (console-script entry point)."""
    cli()


from mam.cli import (  # noqa: E402, F401 - registers the subcommands
    assessment,
    check,
    importing,
    licences,
    maintenance,
    media,
    network,
    ops,
    serve,
)
from mam.cli import releases as _releases_cli  # noqa: E402, F401
from mam.cli import review as _review_cli  # noqa: E402, F401
