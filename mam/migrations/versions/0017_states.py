"""job, release_package, upload_session: an optimistic counter for their state machines

Revision ID: 0017_states
Revises: 0015_merge_session3

Every stateful row moves through ``mam.statemachine.StateMachine``; like ``version`` and
``release_set`` each now carries ``lock_version`` (SQLAlchemy's ``version_id_col``), so of two
actors racing on one row (a worker and the reconciler, a builder and a publisher's rebuild,
an upload's last PATCH and the expiry sweep) exactly one wins. The new job state
``skipped`` needs no change: states are stored as plain strings without a CHECK constraint.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_states"
down_revision = "0015_merge_session3"
branch_labels = None
depends_on = None

TABLES = ("job", "release_package", "upload_session")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table, sa.Column("lock_version", sa.Integer(), nullable=False, server_default="1")
        )


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite >= 3.35 drops a column in place), as 0014 does.
    for table in TABLES:
        op.drop_column(table, "lock_version")
