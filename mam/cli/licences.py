"""``mam licences expiring`` (what ends soon or has ended) and ``mam licences sweep``."""

from __future__ import annotations

from datetime import date

import click

from mam.cli import Context, _, cli, pass_ctx
from mam.i18n import N_
from mam.services.licence_sweep import LicenceSweep
from mam.services.licences import EXPIRING_DAYS, LicenceService, licence_state, today
from mam.services.notify import make_notifier

# The licence states as the catalogue's facet names them.
STATE_NAMES = {
    "valid": N_("valid"), "expiring": N_("expiring"), "expired": N_("expired"),
    "pending": N_("not started"), "none": N_("no licence"),
}  # fmt: skip


@cli.group()
def licences() -> None:
    """Licences of imported and general teaching material."""


def _day(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else today()
    except ValueError:
        raise click.BadParameter(
            _("%(value)r is not a date like 2026-12-01", value=value)
        ) from None


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
                _("programme 《%(name)s》", name=lic.programme.name)
                if lic.programme is not None
                else _("episode %(id)s 《%(title)s》", id=lic.episode_id,
                       title=lic.episode.title if lic.episode else "")
            )  # fmt: skip
            state = _(STATE_NAMES[licence_state(lic, day)])
            click.echo(f"{state:<9} {lic.ends_on}  {lic.holder}  {what}")
        click.echo(_("%(n)s licence(s)", n=len(found)), err=True)


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
        click.echo(_("notice %(kind)s for licence %(id)s", kind=kind, id=licence_id))
    for name in result.withdrawn:
        click.echo(_("withdrawn: %(name)s", name=name))
