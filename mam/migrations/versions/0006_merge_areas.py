"""Merge the area branches (processing, review, catalogue, release) into one head.

Revision ID: 0006_merge_areas
Revises: 0002_processing, 0003_review, 0004_catalogue, 0005_release
"""

from __future__ import annotations

revision = "0006_merge_areas"
down_revision = ("0002_processing", "0003_review", "0004_catalogue", "0005_release")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
