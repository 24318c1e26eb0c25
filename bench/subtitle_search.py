"""Subtitle search benchmark: ``search_cues`` (CJK bigram lookup, then LIKE) against a plain
LIKE scan of ``subtitle_cue``, on SQLite and PostgreSQL, at two sizes in one run.

    .venv/bin/python bench/subtitle_search.py [--films 250] [--cues 400] [--runs 10]
                                              [--pg URL] [--no-pg]

Builds a temporary SQLite file and a throw-away PostgreSQL schema through the migrations,
fills ``--films`` episodes of ``--cues`` generated Chinese cues each (one film in ten says
党建 once), times a two-character query both ways (p50 of ``--runs``), then quadruples the
films and times them again; prints milliseconds and the ratios.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mam import migrate
from mam.models import Episode, Programme
from mam.models.catalogue import SubtitleCue
from mam.search_subtitles import bigrams, normalise, search_cues

POOL = "同志们今天学习农业技术种植养殖乡村振兴文化生活理论政策法规先进典型警示教育合作社"


def fill(engine: sa.Engine, first: int, films: int, cues: int, rng: random.Random) -> None:
    with Session(engine) as s:
        programme = s.get(Programme, 1) or Programme(id=1, name="基准栏目")
        s.add_all(
            Episode(id=first + n + 1, programme=programme, title=f"第{first + n + 1}集")
            for n in range(films)
        )
        s.commit()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO subtitle (id, episode_id, language, storage_key, original_filename,"
                " cue_count, created_at, is_current, revision) VALUES (:id, :id, 'zh', 'k',"
                " 'a.vtt', :n, CURRENT_TIMESTAMP, :yes, 1)"
            ),
            [{"id": first + n + 1, "n": cues, "yes": True} for n in range(films)],
        )
        rows, grams = [], []
        for n in range(films):
            for c in range(cues):
                text = "".join(rng.choice(POOL) for _ in range(14))
                if (first + n) % 10 == 0 and c == cues // 2:
                    text = text[:6] + "党建" + text[6:]
                cue_id = (first + n) * cues + c + 1
                rows.append({"id": cue_id, "s": first + n + 1, "a": c * 3.0, "b": c * 3.0 + 2.5,
                             "t": text, "q": normalise(text)})  # fmt: skip
                grams += [{"g": g, "c": cue_id} for g in bigrams(normalise(text))]
        conn.execute(
            sa.text(
                'INSERT INTO subtitle_cue (id, subtitle_id, episode_id, start, "end", text,'
                " search_text) VALUES (:id, :s, :s, :a, :b, :t, :q)"
            ),
            rows,
        )
        conn.execute(sa.text("INSERT INTO subtitle_cue_gram (gram, cue_id) VALUES (:g, :c)"), grams)
        conn.exec_driver_sql("ANALYZE")  # what autovacuum (PostgreSQL) would have done


def timed(engine: sa.Engine, runs: int) -> tuple[float, float, int]:
    """Return p50 ms of ``search_cues`` and of a plain LIKE scan, and the hits."""
    indexed, scanned, hits = [], [], 0
    scan = sa.select(SubtitleCue.id).where(SubtitleCue.search_text.like("%党建%"))
    with Session(engine) as s:
        for _ in range(runs):
            t0 = time.perf_counter()
            hits = len(search_cues(s, "党建", limit=50))
            t1 = time.perf_counter()
            assert len(s.scalars(scan).all()) >= hits
            t2 = time.perf_counter()
            indexed.append((t1 - t0) * 1000)
            scanned.append((t2 - t1) * 1000)
    return statistics.median(indexed), statistics.median(scanned), hits


def run(name: str, url: str, films: int, cues: int, runs: int) -> None:
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    rng = random.Random(14)
    fill(engine, 0, films, cues, rng)
    for size in (films, films * 4):
        if size > films:
            fill(engine, films, films * 3, cues, rng)
        indexed, scanned, hits = timed(engine, runs)
        print(
            f"{name}: {size * cues:,} cues, {hits} hits: bigram index {indexed:.1f} ms, "
            f"LIKE scan {scanned:.1f} ms, scan/index {scanned / indexed:.1f}x"
        )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--films", type=int, default=250)
    parser.add_argument("--cues", type=int, default=400)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{tmp}/bench.db", args.films, args.cues, args.runs)
    if args.no_pg:
        return
    schema = f"mam_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.pg)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        run("PostgreSQL", f"{args.pg}?options=-csearch_path%3D{schema}", args.films,
            args.cues, args.runs)  # fmt: skip
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


if __name__ == "__main__":
    main()
