"""``mam network import``: a county's townships and playback points from a spreadsheet."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import select

from mam.cli import Context, _, cli, domain_errors, pass_ctx
from mam.config import cli_locale
from mam.errors import InvalidInput
from mam.i18n import N_, render, translator
from mam.models import County, Role, User
from mam.services.network_import import Check, NetworkImport

# What a row of the sheet does (check.counts() keys).
ACTIONS = {
    "create": N_("create"), "update": N_("update"), "unchanged": N_("unchanged"),
    "organisation": N_("organisation"), "error": N_("error"),
}  # fmt: skip


@cli.group()
def network() -> None:
    """The playback network (townships, points): import from a spreadsheet."""


def _table(check: Check) -> None:
    click.echo(f"{_('line'):>5}  {_('township'):<16} {_('name'):<28} {_('result')}")
    translate = translator(cli_locale())
    for r in check.reports:
        result = (
            render(r.problem.template, r.problem.params, translate) if r.problem
            else _(ACTIONS.get(r.action, r.action))
        )  # fmt: skip
        colour = "red" if r.problem else {"create": "green", "update": "yellow"}.get(r.action)
        click.echo(f"{r.line:>5}  {r.township:<16} {r.name:<28} " + click.style(result, fg=colour))
    counts = ", ".join(
        f"{n} {_(ACTIONS.get(a, a))}" for a, n in sorted(check.counts().items())
    )
    click.echo(_("summary: %(counts)s", counts=counts))


@network.command("import")
@click.argument("sheet", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--county", "county_code", required=True, help="Code of the county the sheet is for.")
@click.option("--as-user", "as_user", required=True, help="Act as this county or admin user.")
@click.option("--dry-run", is_flag=True, help="Check every row and list problems; write nothing.")
@pass_ctx
def import_network(
    ctx: Context, sheet: Path, county_code: str, as_user: str, dry_run: bool
) -> None:
    """Import townships, organisations and playback points from SHEET (CSV or XLSX).

    \b
    Columns, Chinese or English names (first row):
      乡镇/township, 类型/kind (行政村 城市社区 非公企业 社会组织 学校 其他)   required
      网点名称/point, 单位/organisation, 地址/address, 联系人/contact, 电话/phone
    A row without 网点名称 records an organisation that has no point yet. The whole sheet
    is checked first; any problem stops the import. Existing townships and points (same
    name) are updated, so importing a sheet again changes nothing.
    """
    with domain_errors(), ctx.unit_of_work() as session:
        county = session.scalar(select(County).where(County.code == county_code))
        actor = session.scalar(select(User).where(User.username == as_user))
        if county is None:
            raise click.ClickException(_("no county %(code)r", code=county_code))
        if actor is None or not actor.has_role(Role.COUNTY, Role.ADMIN):
            raise click.ClickException(_("%(name)r is not a county or admin user", name=as_user))
        importer = NetworkImport(session, actor, county.id)
        check = importer.check(sheet.read_bytes(), sheet.name)
        click.echo(
            _("%(sheet)s: %(n)s rows, %(encoding)s", sheet=sheet.name, n=len(check.reports),
              encoding=check.encoding)
        )  # fmt: skip
        _table(check)
        if check.errors:
            click.secho(
                _("%(n)s problem(s); nothing was imported.", n=len(check.errors)), fg="red",
                err=True,
            )  # fmt: skip
            sys.exit(InvalidInput.exit_code)
        if dry_run:
            session.rollback()
            click.echo(_("dry run: nothing was written"))
            return
        importer.apply(check)
        click.secho(_("imported"), fg="green")
