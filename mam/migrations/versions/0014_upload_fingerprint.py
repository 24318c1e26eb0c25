"""asset: a cheap fingerprint of each original (size + SHA-256 of its first and last 4 MiB)

Revision ID: 0014_upload_fingerprint
Revises: 0008_search_facets

The upload page sends the same fingerprint when it creates an upload, so a file already in
the library is refused before its bytes are sent. Existing rows are not read here (this
migration has no access to storage, and reading every original would make the upgrade
slow): ``mam.services.fingerprints.FingerprintIndex`` computes the fingerprint of an older asset
from storage the first time a file of exactly its size is announced, and stores it. The
index on ``size`` keeps that lookup cheap.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_upload_fingerprint"
down_revision = "0008_search_facets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("asset", sa.Column("fingerprint", sa.String(length=160), nullable=True))
    op.create_index(op.f("ix_asset_size"), "asset", ["size"], unique=False)


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite >= 3.35 drops a column in place): a batch copy of ``asset``
    # would have to drop the table that every version row refers to.
    op.drop_index(op.f("ix_asset_size"), table_name="asset")
    op.drop_column("asset", "fingerprint")
