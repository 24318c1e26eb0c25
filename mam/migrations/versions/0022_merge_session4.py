"""Merge the branches of 2026-12-01 (unit of work and outbox, state machines, message codes).

Revision ID: 0022_merge_session4
Revises: 0016_outbox, 0017_states, 0018_messages, 0020_learning, 0021_assessment (after 0019_network)
"""

from __future__ import annotations

revision = "0022_merge_session4"
down_revision = ("0016_outbox", "0017_states", "0018_messages", "0020_learning", "0021_assessment")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
