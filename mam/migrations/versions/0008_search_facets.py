"""search: facet values in the index, the latest version's state, the normalised text

Revision ID: 0008_search_facets
Revises: 0007_upload_parts (chained after the upload migration: one head)

* ``episode_search.state`` copies the state of the episode's latest version, so searches
  filter and count states without joining ``version``; a trigger on ``version`` keeps it
  current whatever writes the state.
* ``episode_search.phrase_text`` holds the searched fields normalised, so a query word of
  three or more CJK characters is checked as typed. Rows indexed before this revision keep
  it empty and are matched on their bigrams alone until reindexed (``mam search --reindex``).
* Programme, source, year and topics become index tokens (PostgreSQL: lexemes starting
  with ``§`` in the tsvector; SQLite: a ``facets`` column of the FTS5 mirror), added here
  from the values already stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_search_facets"
down_revision = "0007_upload_parts"
branch_labels = None
depends_on = None

_PG_FUNCTION = """
CREATE FUNCTION episode_search_follow_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE episode_search SET state = NEW.state WHERE latest_version_id = NEW.id;
    RETURN NULL;
END $$
"""
_PG_TRIGGER = """
CREATE TRIGGER version_state_to_search AFTER UPDATE OF state ON version
FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
EXECUTE FUNCTION episode_search_follow_state()
"""
_SQLITE_TRIGGER = """
CREATE TRIGGER version_state_to_search AFTER UPDATE OF state ON version
FOR EACH ROW WHEN OLD.state IS NOT NEW.state
BEGIN
    UPDATE episode_search SET state = NEW.state WHERE latest_version_id = NEW.id;
END
"""
_PG_FACET_TOKENS = """
UPDATE episode_search es SET document = es.document || array_to_tsvector(
    ARRAY['§p' || es.programme_id, '§s' || es.source_type]
    || CASE WHEN es.year IS NULL THEN ARRAY[]::text[] ELSE ARRAY['§y' || es.year] END
    || ARRAY(SELECT '§t' || et.topic_id FROM episode_topic et WHERE et.episode_id = es.episode_id)
)
"""


# SQLite: copy the FTS5 mirror (if mam.search made it already) into one with facet tokens.
_SQLITE_FTS = """
INSERT INTO episode_fts_new(rowid, document, facets)
SELECT f.rowid, f.document,
       'p' || es.programme_id || ' s' || replace(es.source_type, '_', '')
       || coalesce(' y' || es.year, '')
       || coalesce((SELECT ' ' || group_concat('t' || et.topic_id, ' ')
                    FROM episode_topic et WHERE et.episode_id = f.rowid), '')
FROM episode_fts f JOIN episode_search es ON es.episode_id = f.rowid
"""


def _has_fts() -> bool:
    found = op.get_bind().exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='episode_fts'"
    )
    return found.first() is not None


def upgrade() -> None:
    with op.batch_alter_table("episode_search") as batch:
        batch.add_column(sa.Column("state", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("phrase_text", sa.Text(), nullable=False, server_default=""))
    op.create_index("ix_episode_search_state", "episode_search", ["state", "episode_id"])
    op.execute(
        "UPDATE episode_search SET state = "
        "(SELECT version.state FROM version WHERE version.id = episode_search.latest_version_id)"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
        op.execute(_PG_FACET_TOKENS)
    else:
        op.execute(_SQLITE_TRIGGER)
        if _has_fts():
            op.execute(
                "CREATE VIRTUAL TABLE episode_fts_new USING fts5(document, facets, "
                "tokenize='unicode61')"
            )
            op.execute(_SQLITE_FTS)
            op.execute("DROP TABLE episode_fts")
            op.execute("ALTER TABLE episode_fts_new RENAME TO episode_fts")


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS version_state_to_search ON version"
        if op.get_bind().dialect.name == "postgresql"
        else "DROP TRIGGER IF EXISTS version_state_to_search"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS episode_search_follow_state()")
    elif _has_fts():
        op.execute(
            "CREATE VIRTUAL TABLE episode_fts_old USING fts5(document, tokenize='unicode61')"
        )
        op.execute(
            "INSERT INTO episode_fts_old(rowid, document) SELECT rowid, document FROM episode_fts"
        )
        op.execute("DROP TABLE episode_fts")
        op.execute("ALTER TABLE episode_fts_old RENAME TO episode_fts")
    op.drop_index("ix_episode_search_state", "episode_search")
    with op.batch_alter_table("episode_search") as batch:
        batch.drop_column("phrase_text")
        batch.drop_column("state")
