"""``mam assessment rebuild-rollup``: recompute the dashboards' rollup from the raw rows."""

from __future__ import annotations

import time

import click

from mam.cli import Context, _, cli, pass_ctx
from mam.services.assessment_rollup import rebuild


@cli.group()
def assessment() -> None:
    """Target assessment (目标考核): the rollup behind the dashboards."""


@assessment.command("rebuild-rollup")
@pass_ctx
def rebuild_rollup(ctx: Context) -> None:
    """Recompute the rollup tables from every plan entry, screening, point and organisation,
    in one transaction.

    The plan and screening services keep the rollup in step as they change rows; this is for
    rows written around them (a bulk load, a repair by hand) and to check nothing drifted.
    Readers see the old rollup until the new one commits.
    """
    started = time.perf_counter()
    with ctx.unit_of_work() as session:
        months, points = rebuild(session)
    click.echo(
        _("rollup rebuilt: %(months)s township-month rows, %(points)s point-year rows "
          "in %(seconds)s s", months=months, points=points,
          seconds=f"{time.perf_counter() - started:.1f}")
    )  # fmt: skip
