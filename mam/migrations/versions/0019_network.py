"""network: townships, playback points, organisations, focus, monthly plans, copies

Revision ID: 0019_network
Revises: 0015_merge_session3

* New tables: township, network_organisation, playback_point, network_focus (+ _film),
  playback_plan, plan_entry, film_copy, copy_movement; ``user_account.township_id`` for the
  new ``township`` role.
* ``screening`` is extended, not replaced: the county reports per release set made before
  this revision stay as they are (episode and point empty, ``outcome`` = ``held`` through the
  server default, ``note`` empty), so coverage figures and the county page keep counting them.
  Downgrading drops the network columns; reports of screenings that were *not* held are
  deleted first, because the old table has no way to say so.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mam.models.core

revision = "0019_network"
down_revision = "0015_merge_session3"
branch_labels = None
depends_on = None


def _create_network() -> None:
    op.create_table(
        "township",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("contact_name", sa.String(length=100), nullable=False),
        sa.Column("contact_phone", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", mam.models.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_township_county_id_county")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_township")),
        sa.UniqueConstraint("county_id", "name", name=op.f("uq_township_county_id")),
    )
    with op.batch_alter_table("township", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_township_county_id"), ["county_id"], unique=False)

    op.create_table(
        "network_organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "village",
                "community",
                "enterprise",
                "social_org",
                "school",
                "other",
                name="pointkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", mam.models.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["township_id"],
            ["township.id"],
            name=op.f("fk_network_organisation_township_id_township"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_organisation")),
        sa.UniqueConstraint(
            "township_id", "name", name=op.f("uq_network_organisation_township_id")
        ),
    )
    with op.batch_alter_table("network_organisation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_network_organisation_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_network_organisation_township_id"), ["township_id"], unique=False
        )

    op.create_table(
        "network_focus",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("themes", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", mam.models.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_network_focus_county_id_county")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_network_focus_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_focus")),
    )
    with op.batch_alter_table("network_focus", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_network_focus_county_id"), ["county_id"], unique=False)

    op.create_table(
        "playback_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", mam.models.core.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", mam.models.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_playback_plan_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["township_id"], ["township.id"], name=op.f("fk_playback_plan_township_id_township")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playback_plan")),
        sa.UniqueConstraint("township_id", "month", name=op.f("uq_playback_plan_township_id")),
    )
    with op.batch_alter_table("playback_plan", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_playback_plan_township_id"), ["township_id"], unique=False
        )

    op.create_table(
        "playback_point",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "village",
                "community",
                "enterprise",
                "social_org",
                "school",
                "other",
                name="pointkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("contact_name", sa.String(length=100), nullable=False),
        sa.Column("contact_phone", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", mam.models.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["network_organisation.id"],
            name=op.f("fk_playback_point_organisation_id_network_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["township_id"], ["township.id"], name=op.f("fk_playback_point_township_id_township")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playback_point")),
        sa.UniqueConstraint("township_id", "name", name=op.f("uq_playback_point_township_id")),
    )
    with op.batch_alter_table("playback_point", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_playback_point_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_playback_point_township_id"), ["township_id"], unique=False
        )


def _create_plans_and_copies() -> None:
    op.create_table(
        "film_copy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=True),
        sa.Column(
            "medium",
            sa.Enum("usb", "disc", name="copymedium", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("holder_point_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", mam.models.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_film_copy_episode_id_episode")
        ),
        sa.ForeignKeyConstraint(
            ["holder_point_id"],
            ["playback_point.id"],
            name=op.f("fk_film_copy_holder_point_id_playback_point"),
        ),
        sa.ForeignKeyConstraint(
            ["release_id"], ["release_set.id"], name=op.f("fk_film_copy_release_id_release_set")
        ),
        sa.ForeignKeyConstraint(
            ["township_id"], ["township.id"], name=op.f("fk_film_copy_township_id_township")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_film_copy")),
        sa.UniqueConstraint("township_id", "label", name=op.f("uq_film_copy_township_id")),
    )
    with op.batch_alter_table("film_copy", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_film_copy_holder_point_id"), ["holder_point_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_film_copy_township_id"), ["township_id"], unique=False)

    op.create_table(
        "network_focus_film",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("focus_id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_network_focus_film_episode_id_episode")
        ),
        sa.ForeignKeyConstraint(
            ["focus_id"],
            ["network_focus.id"],
            name=op.f("fk_network_focus_film_focus_id_network_focus"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["release_set.id"],
            name=op.f("fk_network_focus_film_release_id_release_set"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_focus_film")),
        sa.UniqueConstraint("focus_id", "episode_id", name=op.f("uq_network_focus_film_focus_id")),
    )
    op.create_table(
        "plan_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("planned_time", sa.Time(), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_plan_entry_episode_id_episode")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["playback_plan.id"],
            name=op.f("fk_plan_entry_plan_id_playback_plan"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["point_id"], ["playback_point.id"], name=op.f("fk_plan_entry_point_id_playback_point")
        ),
        sa.ForeignKeyConstraint(
            ["release_id"], ["release_set.id"], name=op.f("fk_plan_entry_release_id_release_set")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_entry")),
    )
    with op.batch_alter_table("plan_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_entry_episode_id"), ["episode_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_entry_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index("ix_plan_entry_point_day", ["point_id", "planned_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_entry_release_id"), ["release_id"], unique=False)

    op.create_table(
        "copy_movement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.Integer(), nullable=False),
        sa.Column("from_point_id", sa.Integer(), nullable=True),
        sa.Column("to_point_id", sa.Integer(), nullable=True),
        sa.Column("moved_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", mam.models.core.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["copy_id"], ["film_copy.id"], name=op.f("fk_copy_movement_copy_id_film_copy")
        ),
        sa.ForeignKeyConstraint(
            ["from_point_id"],
            ["playback_point.id"],
            name=op.f("fk_copy_movement_from_point_id_playback_point"),
        ),
        sa.ForeignKeyConstraint(
            ["to_point_id"],
            ["playback_point.id"],
            name=op.f("fk_copy_movement_to_point_id_playback_point"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_copy_movement_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copy_movement")),
    )
    with op.batch_alter_table("copy_movement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_copy_movement_copy_id"), ["copy_id"], unique=False)


def _extend_screening_and_users() -> None:
    with op.batch_alter_table("screening", schema=None) as batch_op:
        batch_op.add_column(sa.Column("episode_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("township_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("point_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("plan_entry_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "outcome",
                sa.Enum(
                    "held",
                    "moved",
                    "not_held",
                    name="screeningoutcome",
                    native_enum=False,
                    length=32,
                ),
                server_default="held",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("screened_time", sa.Time(), nullable=True))
        batch_op.add_column(sa.Column("party_members", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("masses", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("note", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("photo_key", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("photo_type", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("updated_at", mam.models.core.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_screening_county_day", ["county_id", "screened_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_screening_episode_id"), ["episode_id"], unique=False)
        batch_op.create_index("ix_screening_point_day", ["point_id", "screened_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_screening_township_id"), ["township_id"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_screening_plan_entry_id"), ["plan_entry_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_screening_episode_id_episode"), "episode", ["episode_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_screening_plan_entry_id_plan_entry"),
            "plan_entry",
            ["plan_entry_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_screening_township_id_township"), "township", ["township_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_screening_point_id_playback_point"),
            "playback_point",
            ["point_id"],
            ["id"],
        )

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("township_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_user_account_township_id_township"), "township", ["township_id"], ["id"]
        )


def upgrade() -> None:
    _create_network()
    _create_plans_and_copies()
    _extend_screening_and_users()


def _shrink_screening_and_users() -> None:
    op.execute(sa.text("DELETE FROM screening WHERE outcome = 'not_held'"))
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_user_account_township_id_township"), type_="foreignkey"
        )
        batch_op.drop_column("township_id")

    with op.batch_alter_table("screening", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_screening_point_id_playback_point"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_screening_township_id_township"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_screening_plan_entry_id_plan_entry"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_screening_episode_id_episode"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_screening_plan_entry_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_screening_township_id"))
        batch_op.drop_index("ix_screening_point_day")
        batch_op.drop_index(batch_op.f("ix_screening_episode_id"))
        batch_op.drop_index("ix_screening_county_day")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("photo_type")
        batch_op.drop_column("photo_key")
        batch_op.drop_column("note")
        batch_op.drop_column("masses")
        batch_op.drop_column("party_members")
        batch_op.drop_column("screened_time")
        batch_op.drop_column("reason")
        batch_op.drop_column("outcome")
        batch_op.drop_column("plan_entry_id")
        batch_op.drop_column("point_id")
        batch_op.drop_column("township_id")
        batch_op.drop_column("episode_id")


def _drop_plans_and_copies() -> None:
    with op.batch_alter_table("copy_movement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_copy_movement_copy_id"))

    op.drop_table("copy_movement")
    with op.batch_alter_table("plan_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_entry_release_id"))
        batch_op.drop_index("ix_plan_entry_point_day")
        batch_op.drop_index(batch_op.f("ix_plan_entry_plan_id"))
        batch_op.drop_index(batch_op.f("ix_plan_entry_episode_id"))

    op.drop_table("plan_entry")
    op.drop_table("network_focus_film")
    with op.batch_alter_table("film_copy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_film_copy_township_id"))
        batch_op.drop_index(batch_op.f("ix_film_copy_holder_point_id"))


def _drop_network() -> None:
    op.drop_table("film_copy")
    with op.batch_alter_table("playback_point", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_playback_point_township_id"))
        batch_op.drop_index(batch_op.f("ix_playback_point_organisation_id"))

    op.drop_table("playback_point")
    with op.batch_alter_table("playback_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_playback_plan_township_id"))

    op.drop_table("playback_plan")
    with op.batch_alter_table("network_focus", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_network_focus_county_id"))

    op.drop_table("network_focus")
    with op.batch_alter_table("network_organisation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_network_organisation_township_id"))
        batch_op.drop_index(batch_op.f("ix_network_organisation_kind"))

    op.drop_table("network_organisation")
    with op.batch_alter_table("township", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_township_county_id"))

    op.drop_table("township")


def downgrade() -> None:
    _shrink_screening_and_users()
    _drop_plans_and_copies()
    _drop_network()
