"""The ``mam`` command line."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from mam.config import Settings
from mam.errors import MamError
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


pass_ctx = click.make_pass_decorator(Context, ensure=True)


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn domain errors into a one-line message and the error's exit code."""
    try:
        yield
    except MamError as exc:
        click.secho(f"error: {exc.message}", err=True, fg="red")
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
    check,
    importing,
    maintenance,
    media,
    network,
    ops,
    serve,
)
from mam.cli import releases as _releases_cli  # noqa: E402, F401
from mam.cli import review as _review_cli  # noqa: E402, F401
