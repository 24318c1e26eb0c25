"""``mam users stages`` (who signs which review stage) and ``mam review chain``."""

from __future__ import annotations

import click

from mam.cli import Context, cli, domain_errors, no_user, pass_ctx
from mam.cli.ops import users
from mam.services.review import ReviewService
from mam.services.users import UserService


@users.command("stages")
@click.argument("username")
@click.argument("stages", nargs=-1)
@pass_ctx
def users_stages(ctx: Context, username: str, stages: tuple[str, ...]) -> None:
    """Set the review STAGES USERNAME may sign (e.g. 初审 终审); none lists them."""
    with domain_errors(), ctx.unit_of_work() as session:
        user = UserService(session).by_username(username)
        if user is None:
            raise no_user(username)
        review = ReviewService(session)
        if stages:
            review.set_grants(user, list(stages))
        click.echo(f"{username}: {', '.join(s.name for s in review.grants(user)) or '-'}")


@cli.group()
def review() -> None:
    """The review chain."""


@review.command("chain")
@click.argument("stages", nargs=-1)
@pass_ctx
def review_chain(ctx: Context, stages: tuple[str, ...]) -> None:
    """Show the review chain, or set it to STAGES in signing order."""
    with domain_errors(), ctx.unit_of_work() as session:
        service = ReviewService(session)
        chain = service.set_chain(list(stages)) if stages else service.stages()
        click.echo(" → ".join(s.name for s in chain))
