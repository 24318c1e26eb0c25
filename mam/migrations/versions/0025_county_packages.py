"""A release package may be meant for one county (its TV package with the county's logo).

``release_package.county_id`` empty is the shared package (every row made before this
revision is one, and keeps working); set, the package of that county alone. One shared
package per set and kind (a partial unique index), one per county, set and kind.

Revision ID: 0025_county_packages
Revises: 0024_merge_session5
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0025_county_packages"
down_revision = "0024_merge_session5"
branch_labels = None
depends_on = None

SHARED = sa.text("county_id IS NULL")


@contextmanager
def _downloads_set_aside() -> Iterator[None]:
    """On SQLite, keep the downloads aside while release_package is rebuilt (batch mode):
    dropping the old table would break their foreign keys (PRAGMA foreign_keys cannot be
    turned off inside the migration's transaction); they come back unchanged."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("CREATE TEMP TABLE download_aside AS SELECT * FROM download")
        op.execute("DELETE FROM download")
    yield
    if sqlite:
        op.execute("INSERT INTO download SELECT * FROM download_aside")
        op.execute("DROP TABLE download_aside")


def upgrade() -> None:
    with _downloads_set_aside(), op.batch_alter_table("release_package") as batch:
        batch.add_column(sa.Column("county_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_release_package_county_id_county"), "county", ["county_id"], ["id"]
        )
        batch.create_index(op.f("ix_release_package_county_id"), ["county_id"])
        batch.drop_constraint(op.f("uq_release_package_release_id"), type_="unique")
        batch.create_unique_constraint(
            "uq_release_package_release_kind_county", ["release_id", "kind", "county_id"]
        )
    op.create_index(
        "uq_release_package_shared",
        "release_package",
        ["release_id", "kind"],
        unique=True,
        sqlite_where=SHARED,
        postgresql_where=SHARED,
    )


def downgrade() -> None:
    # The packages of single counties cannot be told apart from the shared one without the
    # column: they go (their downloads with them); the shared packages stay.
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "DELETE FROM download WHERE package_id IN"
            " (SELECT id FROM release_package WHERE county_id IS NOT NULL)"
        )
    )
    bind.execute(sa.text("DELETE FROM release_package WHERE county_id IS NOT NULL"))
    op.drop_index("uq_release_package_shared", table_name="release_package")
    with _downloads_set_aside(), op.batch_alter_table("release_package") as batch:
        batch.drop_constraint("uq_release_package_release_kind_county", type_="unique")
        batch.create_unique_constraint(op.f("uq_release_package_release_id"), ["release_id", "kind"])
        batch.drop_index(op.f("ix_release_package_county_id"))
        batch.drop_constraint(op.f("fk_release_package_county_id_county"), type_="foreignkey")
        batch.drop_column("county_id")
