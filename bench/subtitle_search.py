"""Subtitle search benchmark: ``search_cues`` (LIKE over ``subtitle_cue``) on SQLite and
PostgreSQL, at two sizes in one run, to show how the scan grows.

    .venv/bin/python bench/subtitle_search.py [--films 250] [--cues 400] [--runs 10]
                                              [--pg URL] [--no-pg]

Builds a temporary SQLite file and a throw-away PostgreSQL schema through the migrations,
fills ``--films`` episodes of ``--cues`` generated Chinese cues each (one film in ten says
党建 once), times a two-character query (p50 of ``--runs``), then quadruples the films and
times it again; prints milliseconds and the ratio (a scan: about 4×).
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
from mam.search_subtitles import normalise, search_cues

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
        rows = []
        for n in range(films):
            for c in range(cues):
                text = "".join(rng.choice(POOL) for _ in range(14))
                if (first + n) % 10 == 0 and c == cues // 2:
                    text = text[:6] + "党建" + text[6:]
                rows.append({"s": first + n + 1, "a": c * 3.0, "b": c * 3.0 + 2.5, "t": text,
                             "q": normalise(text)})  # fmt: skip
        conn.execute(
            sa.text(
                'INSERT INTO subtitle_cue (subtitle_id, episode_id, start, "end", text,'
                " search_text) VALUES (:s, :s, :a, :b, :t, :q)"
            ),
            rows,
        )


def timed(engine: sa.Engine, runs: int) -> tuple[float, int]:
    samples, hits = [], 0
    with Session(engine) as s:
        for _ in range(runs):
            t0 = time.perf_counter()
            hits = len(search_cues(s, "党建", limit=50))
            samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), hits


def run(name: str, url: str, films: int, cues: int, runs: int) -> None:
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    rng = random.Random(14)
    fill(engine, 0, films, cues, rng)
    small, hits_small = timed(engine, runs)
    fill(engine, films, films * 3, cues, rng)
    large, hits_large = timed(engine, runs)
    engine.dispose()
    print(
        f"{name}: {films * cues:,} cues {small:.1f} ms ({hits_small} hits); "
        f"{films * 4 * cues:,} cues {large:.1f} ms ({hits_large} hits); ratio {large / small:.1f}x"
    )


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
