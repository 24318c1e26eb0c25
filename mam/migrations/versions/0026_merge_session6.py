"""Merge the branches of 2026-12-01, third session (county packages, rollup upkeep,
chunked-ladder pieces).

Revision ID: 0026_merge_session6
Revises: 0025_county_packages, 0025_rollup_fast, 0025_scaleout
"""

from __future__ import annotations

revision = "0026_merge_session6"
down_revision = ("0025_county_packages", "0025_rollup_fast", "0025_scaleout")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
