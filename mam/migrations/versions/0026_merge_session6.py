"""Merge the branches of 2026-12-01, third session (county packages, rollup upkeep).

Revision ID: 0026_merge_session6
Revises: 0025_county_packages, 0025_rollup_fast
"""

from __future__ import annotations

revision = "0026_merge_session6"
down_revision = ("0025_county_packages", "0025_rollup_fast")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
