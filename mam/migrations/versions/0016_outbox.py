"""outbox_message; leases on job and release_package

Revision ID: 0016_outbox
Revises: 0015_merge_session3

Tasks are enqueued through ``outbox_message`` (written in the same transaction as the job or
package it starts, drained after the commit and by the reconciler). A running job or package
build holds a lease (``lease_expires_at``, renewed by every stage) and is fenced by its
attempt number (docs/architecture.md, "Unit of work and outbox").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mam.models.core

revision = "0016_outbox"
down_revision = "0015_merge_session3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "task",
            sa.Enum("process", "package", name="outboxtask", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", mam.models.core.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", mam.models.core.UTCDateTime(timezone=True), nullable=True),
        sa.Column("task_id", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_outbox_message_sent_at"), "outbox_message", ["sent_at"])
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("lease_expires_at", mam.models.core.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("release_package") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("worker", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", mam.models.core.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", mam.models.core.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("release_package") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("heartbeat_at")
        batch.drop_column("worker")
        batch.drop_column("attempts")
    with op.batch_alter_table("job") as batch:
        batch.drop_column("lease_expires_at")
    op.drop_index(op.f("ix_outbox_message_sent_at"), table_name="outbox_message")
    op.drop_table("outbox_message")
