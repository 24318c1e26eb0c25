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
    with op.batch_alter_table("asset") as batch:
        batch.add_column(sa.Column("fingerprint", sa.String(length=160), nullable=True))
        batch.create_index(batch.f("ix_asset_size"), ["size"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("asset") as batch:
        batch.drop_index(batch.f("ix_asset_size"))
        batch.drop_column("fingerprint")
