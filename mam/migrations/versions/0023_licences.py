"""Licences: per episode or programme, with uses, territory and period; release set uses.

Revision ID: 0023_licences
Revises: 0022_merge_session4

Data: every episode with a rights holder or a rights expiry (``episode_detail``) gets a
licence with that holder and end date, for every use and every county, so nothing that
was released before stops at the upgrade. The old columns stay (the upload form, the
import sheet and the PBCore record still read them); the licence is what is enforced.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mam.models import UTCDateTime

revision = "0023_licences"
down_revision = "0022_merge_session4"
branch_labels = None
depends_on = None

ALL_USES = '["tv", "playback", "web"]'
COPY_RIGHTS = (
    "INSERT INTO licence (episode_id, holder, contract_ref, ends_on, uses, all_counties,"
    " notes, created_at, updated_at)"
    " SELECT episode_id, rights_holder, '', rights_expiry, :uses, :yes, '',"
    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM episode_detail"
    " WHERE rights_holder <> '' OR rights_expiry IS NOT NULL"
)
COPY_RIGHTS_PG = COPY_RIGHTS.replace(":uses", "CAST(:uses AS JSON)")


def upgrade() -> None:
    op.create_table(
        "licence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=True),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("contract_ref", sa.String(length=100), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("uses", sa.JSON(), nullable=False),
        sa.Column("all_counties", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_licence_episode_id_episode"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_licence_programme_id_programme"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["user_account.id"],
            name=op.f("fk_licence_updated_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licence")),
        sa.UniqueConstraint("episode_id", name=op.f("uq_licence_episode_id")),
        sa.UniqueConstraint("programme_id", name=op.f("uq_licence_programme_id")),
    )  # fmt: skip
    with op.batch_alter_table("licence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_licence_ends_on"), ["ends_on"], unique=False)
    op.create_table(
        "licence_county",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_licence_county_county_id_county")
        ),
        sa.ForeignKeyConstraint(
            ["licence_id"], ["licence.id"], name=op.f("fk_licence_county_licence_id_licence"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licence_county")),
        sa.UniqueConstraint("licence_id", "county_id", name=op.f("uq_licence_county_licence_id")),
    )  # fmt: skip
    op.create_table(
        "licence_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["licence_id"],
            ["licence.id"],
            name=op.f("fk_licence_notice_licence_id_licence"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licence_notice")),
        sa.UniqueConstraint(
            "licence_id", "kind", "ends_on", name=op.f("uq_licence_notice_licence_id")
        ),
    )
    op.add_column(
        "release_set",
        sa.Column("uses", sa.String(length=64), nullable=False, server_default="tv,playback,web"),
    )
    # The rights recorded so far become licences for every use and county.
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(
        sa.text(COPY_RIGHTS_PG if postgres else COPY_RIGHTS).bindparams(
            sa.bindparam("uses", ALL_USES, type_=sa.String()),
            sa.bindparam("yes", True, type_=sa.Boolean()),
        )
    )


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy would trip the foreign keys
    # of the rows that reference release sets.
    op.drop_column("release_set", "uses")
    op.drop_table("licence_notice")
    op.drop_table("licence_county")
    with op.batch_alter_table("licence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_licence_ends_on"))
    op.drop_table("licence")
