"""Merge the branches of 2026-12-01, second session (licences, subtitles, branding, rollup).

Revision ID: 0024_merge_session5
Revises: 0023_licences, 0023_subtitles, 0023_branding, 0023_rollup
"""

from __future__ import annotations

revision = "0024_merge_session5"
down_revision = ("0023_licences", "0023_subtitles", "0023_branding", "0023_rollup")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
