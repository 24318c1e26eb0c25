"""job: why a job failed as a message code and its parameters

Revision ID: 0018_messages
Revises: 0015_merge_session3

``error_code`` names a message of ``mam.messages`` and ``error_params`` holds its parameters,
so the failure is shown in the reader's language. Rows from before keep ``last_error`` (English)
and no code; they are shown as they were.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_messages"
down_revision = "0015_merge_session3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("job", sa.Column("error_code", sa.String(length=64), nullable=True))
    op.add_column("job", sa.Column("error_params", sa.JSON(), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite >= 3.35 drops a column in place): a batch copy of ``job``
    # is not needed for columns without constraints.
    op.drop_column("job", "error_params")
    op.drop_column("job", "error_code")
