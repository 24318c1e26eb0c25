"""The coverage tables (目标考核) as exports: per county of one set, and per set and county."""

from __future__ import annotations

from mam.i18n import N_
from mam.models.release import ReleaseSet
from mam.services.coverage import CoverageReports
from mam.tables import Column, Table

COUNTY = Column("county", N_("County"))
COUNTY_CODE = Column("county_code", N_("County code"))
DOWNLOADED = Column("downloaded", N_("Downloaded"), "bool")
CONFIRMED_AT = Column("confirmed_at", N_("Receipt confirmed on"), "datetime")
COPIES = Column("copies_needed", N_("Copies needed"), "int")
SCREENINGS = Column("screenings", N_("Screenings"), "int")
VIEWERS = Column("viewers", N_("Viewers"), "int")


def coverage_table(service: CoverageReports, release: ReleaseSet) -> Table:
    """Return how each target county stands on ``release``."""
    columns = (
        COUNTY_CODE, COUNTY, DOWNLOADED, CONFIRMED_AT,
        Column("overdue", N_("Overdue"), "bool"), COPIES, SCREENINGS, VIEWERS,
    )  # fmt: skip
    rows = [
        (row.county.code, row.county.name, row.downloaded, row.confirmed_at, row.overdue,
         row.copies_needed, row.screenings, row.viewers)
        for row in service.coverage(release)
    ]  # fmt: skip
    return Table(N_("Coverage"), columns, rows)  # type: ignore[arg-type]


def utilisation_table(service: CoverageReports) -> Table:
    """Return, per published set and target county: received, screenings, viewers."""
    columns = (
        Column("release", N_("Release set")),
        Column("published_at", N_("Published on"), "datetime"),
        COUNTY_CODE, COUNTY, DOWNLOADED, CONFIRMED_AT, SCREENINGS, VIEWERS, COPIES,
    )  # fmt: skip
    rows = [
        (summary.release.name, summary.release.published_at, row.county.code, row.county.name,
         row.downloaded, row.confirmed_at, row.screenings, row.viewers, row.copies_needed)
        for summary in service.dashboard()
        for row in service.coverage(summary.release)
    ]  # fmt: skip
    return Table(N_("Utilisation"), columns, rows)  # type: ignore[arg-type]
