"""Merge the branches of 2026-11-30 (sessions, county tokens, operations, fingerprints).

Revision ID: 0015_merge_session3
Revises: 0010_auth, 0011_county, 0013_ops, 0014_upload_fingerprint
"""

from __future__ import annotations

revision = "0015_merge_session3"
down_revision = ("0010_auth", "0011_county", "0013_ops", "0014_upload_fingerprint")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
