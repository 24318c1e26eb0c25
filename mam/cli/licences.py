"""``mam licences expiring`` (what ends soon or has ended) and ``mam licences sweep``."""

from __future__ import annotations

from datetime import date

import click

from mam.cli import Context, cli, pass_ctx
from mam.services.licence_sweep import LicenceSweep
from mam.services.licences import EXPIRING_DAYS, LicenceService, licence_state, today
from mam.services.notify import make_notifier


@cli.group()
def licences() -> None:
    """Licences of imported and general teaching material."""


def _day(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else today()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-12-01") from None


@licences.command("expiring")
@click.option("--days", type=click.IntRange(0, 3650), default=EXPIRING_DAYS, show_default=True,
              help="Licences whose last day is at most this many days away.")  # fmt: skip
@click.option("--on", "on", default=None, help="Count from this day (default: today).")
@pass_ctx
def expiring(ctx: Context, days: int, on: str | None) -> None:
    """List licences ending within DAYS days or ended: state, last day, holder, what."""
    day = _day(on)
    with ctx.unit_of_work() as session:
        found = LicenceService(session).ending(day, days)
        for lic in found:
            what = (
                f"programme 《{lic.programme.name}》" if lic.programme is not None
                else f"episode {lic.episode_id} 《{lic.episode.title if lic.episode else ''}》"
            )  # fmt: skip
            click.echo(f"{licence_state(lic, day):<9} {lic.ends_on}  {lic.holder}  {what}")
        click.echo(f"{len(found)} licence(s)", err=True)


@licences.command("sweep")
@click.option("--on", "on", default=None, help="Act as on this day (default: today).")
@pass_ctx
def sweep(ctx: Context, on: str | None) -> None:
    """Run the beat's licence sweep now: due notices, withdrawals of what has expired."""
    settings = ctx.settings
    with ctx.unit_of_work() as session:
        notifier = make_notifier(settings.smtp_url, settings.mail_from)
        result = LicenceSweep(session, notifier).run(_day(on))
    for licence_id, kind in result.notices:
        click.echo(f"notice {kind} for licence {licence_id}")
    for name in result.withdrawn:
        click.echo(f"withdrawn: {name}")
