"""county: API tokens get scopes and an optional expiry; download figures made true

Revision ID: 0011_county
Revises: 0008_search_facets

* Tokens made before this revision keep working as full ``api`` tokens without expiry.
* ``download.completed`` is recomputed from the byte spans already logged: a county has a
  package when its spans cover the whole file, and only the row that closed the last gap
  is marked. Rows logged before (``Range: bytes=-1`` marked complete, S3 redirects logged
  as 0 bytes) stop counting as downloads.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import mam.models.core

revision = "0011_county"
down_revision = "0008_search_facets"
branch_labels = None
depends_on = None

UTC = mam.models.core.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(
            sa.Column("scopes", sa.String(length=200), server_default="api", nullable=False)
        )
        batch.add_column(sa.Column("expires_at", UTC, nullable=True))
    _recompute_completed()


def _recompute_completed() -> None:
    conn = op.get_bind()
    download = sa.table(
        "download",
        sa.column("id", sa.Integer),
        sa.column("package_id", sa.Integer),
        sa.column("county_id", sa.Integer),
        sa.column("range_start", sa.BigInteger),
        sa.column("bytes_sent", sa.BigInteger),
        sa.column("completed", sa.Boolean),
    )
    package = sa.table(
        "release_package", sa.column("id", sa.Integer), sa.column("size", sa.BigInteger)
    )
    sizes = {pid: size or 0 for pid, size in conn.execute(sa.select(package.c.id, package.c.size))}
    spans: dict[tuple[int, int | None], list[tuple[int, int]]] = {}
    done: set[tuple[int, int | None]] = set()
    for row in conn.execute(sa.select(download).order_by(download.c.id)).all():
        group = (row.package_id, row.county_id)
        completes = False
        if group not in done and row.bytes_sent > 0:
            merged = _merge(
                [*spans.get(group, []), (row.range_start, row.range_start + row.bytes_sent)]
            )
            spans[group] = merged
            size = sizes.get(row.package_id, 0)
            completes = size > 0 and merged[0][0] <= 0 and merged[0][1] >= size
            if completes:
                done.add(group)
        if bool(row.completed) != completes:
            conn.execute(
                download.update().where(download.c.id == row.id).values(completed=completes)
            )


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("scopes")
