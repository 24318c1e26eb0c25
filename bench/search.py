"""Search benchmark: 100,000 generated episodes on SQLite and PostgreSQL, p50/p95 of queries.

    .venv/bin/python bench/search.py [--episodes 100000] [--runs 20] [--pg URL] [--no-pg]
                                     [--keep DIR]

SQLite goes to a temporary file; PostgreSQL to a throw-away schema of the given database
(default: the test database at 127.0.0.1:5432). Both are built through the migrations.
``--keep DIR`` keeps them instead (DIR/bench-N.db and schema mam_bench_keep_N) and reuses
them on the next run, so changes to the queries can be measured without regenerating.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mam import migrate, search
from mam.db import Database
from mam.models import Asset, Episode, Programme, Version
from mam.models.catalogue import EpisodeDetail, Topic, episode_topic
from mam.services.metadata import ensure_topics

PROGRAMMES = ["时代风采", "科技之光", "党建园地", "乡村振兴", "法治天地", "文化生活", "先锋模范",
              "致富经", "警钟长鸣", "理论讲堂", "农家课堂", "红色记忆"]  # fmt: skip
WORDS = ["党建", "农业", "乡村振兴", "果树", "修剪", "养殖", "廉政", "典型", "法规", "政策",
         "基层", "支部", "扶贫", "致富", "技术", "种植", "水稻", "蔬菜", "大棚", "合作社",
         "村干部", "警示", "教育", "学习", "理论", "文化", "非遗", "民俗", "卫生", "防疫",
         "环境", "治理", "生态", "旅游", "电商", "直播", "带货", "茶叶", "畜牧", "渔业"]  # fmt: skip
# A Zipf-like vocabulary: a few common topic words, a long tail of rarer ones.
_CHARS = "山水田林湖草沙村镇乡县市省民生产业工农商学兵医药科教文体卫信息网络数据安全质量"
WEIGHTS = [1 / (rank + 5) for rank in range(len(WORDS))]
TAIL = [a + b for a in _CHARS for b in _CHARS if a != b]
FILLER = [
    "的",
    "在",
    "讲述",
    "介绍",
    "了",
    "和",
    "如何",
    "一个",
    "我们",
    "他们",
    "同志",
    "村里",
    "县里",
    "工作",
    "经验",
    "故事",
    "带领",
    "群众",
    "发展",
]
QUERIES: list[tuple[str, dict[str, object]]] = [
    ("党建", {}),
    ("农业", {}),
    ("乡村振兴", {}),
    ("果树 修剪", {}),
    ("党", {}),
    ("合作社 电商", {}),
    ("党建", {"topic_id": "TOPIC"}),
    ("技术", {"programme_id": "PROG", "year": 2023}),
    ("", {"state": "approved"}),
    ("", {}),
]


def _word(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.012:  # topic words: the commonest (党建) ends up in a few % of episodes
        return rng.choices(WORDS, weights=WEIGHTS)[0]
    if roll < 0.35:
        return rng.choice(TAIL)
    return rng.choice(FILLER)


def sentence(rng: random.Random, words: int) -> str:
    return "".join(_word(rng) for _ in range(words))


def populate(db: Database, n: int, rng: random.Random) -> None:
    """Insert ``n`` episodes with versions, metadata, topics and search rows."""
    with db.session() as s:
        topics = [t.id for t in ensure_topics(s)]
        s.commit()
        progs = []
        for name in PROGRAMMES:
            p = Programme(name=name)
            s.add(p)
            progs.append(p)
        s.flush()
        prog_ids = [p.id for p in progs]
        s.commit()
        now = datetime.now(UTC)
        batch = 2000
        states = ["ready"] * 5 + ["approved", "released", "in_review", "processing", "failed"]
        next_id = 1
        for start in range(0, n, batch):
            size = min(batch, n - start)
            ids = list(range(next_id, next_id + size))
            next_id += size
            episodes, assets, versions, details, tags = [], [], [], [], []
            for i in ids:
                pid = rng.choice(prog_ids)
                episodes.append({
                    "id": i, "programme_id": pid, "number": rng.randint(1, 60),
                    "title": sentence(rng, 4) + f" 第{i % 97 + 1}集", "synopsis": sentence(rng, 30),
                    "source_type": rng.choice(["self", "imported", "general"]),
                    "created_at": now, "updated_at": now,
                })  # fmt: skip
                sha = hashlib.sha256(f"{i}-{uuid.uuid4()}".encode()).hexdigest()
                assets.append({"id": i, "sha256": sha, "storage_key": f"originals/{sha}",
                               "size": 1, "original_filename": "a.mp4", "media_info": {},
                               "created_at": now})  # fmt: skip
                versions.append({"id": i, "episode_id": i, "number": 1, "asset_id": i,
                                 "state": rng.choice(states), "created_at": now,
                                 "updated_at": now, "lock_version": 1})  # fmt: skip
                details.append({
                    "episode_id": i, "producer": "", "language": "", "rights_holder": "",
                    "production_date": date(rng.randint(2015, 2025), rng.randint(1, 12), 1),
                    "keywords": [_word(rng) for _ in range(3)], "updated_at": now,
                })  # fmt: skip
                for t in rng.sample(topics, rng.randint(0, 2)):
                    tags.append({"episode_id": i, "topic_id": t})
            s.execute(sa.insert(Episode), episodes)
            s.execute(sa.insert(Asset), assets)
            s.execute(sa.insert(Version), versions)
            s.execute(sa.insert(EpisodeDetail), details)
            if tags:
                s.execute(sa.insert(episode_topic), tags)
            search.index_episodes(s, ids)
            s.commit()
            print(f"\r  {start + size:>7}/{n} episodes", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        if db.dialect == "postgresql":
            s.execute(sa.text("ANALYZE"))
            s.commit()


def measure(db: Database, runs: int) -> dict[str, list[float]]:
    """Run every query ``runs`` times; return milliseconds per query."""
    times: dict[str, list[float]] = {}
    hits: dict[str, str] = {}
    with db.session() as s:
        topic = s.scalar(sa.select(Topic.id).where(Topic.name == "党的建设"))
        prog = s.scalar(sa.select(Programme.id).where(Programme.name == "科技之光"))
        for _ in range(runs):
            for text, filters in QUERIES:
                args = {k: topic if v == "TOPIC" else prog if v == "PROG" else v
                        for k, v in filters.items()}  # fmt: skip
                q = search.SearchQuery(text=text, **args)  # type: ignore[arg-type]
                t0 = time.perf_counter()
                result = search.search(s, q)
                elapsed = (time.perf_counter() - t0) * 1000
                label = (text or "(all)") + (" " + ",".join(filters) if filters else "")
                times.setdefault(label, []).append(elapsed)
                hits[label] = f"{result.total}{'' if result.total_exact else '+'}"
                s.rollback()
    return {f"{label} [{hits[label]}]": ts for label, ts in times.items()}


def report(name: str, times: dict[str, list[float]], n: int) -> None:
    everything = sorted(t for ts in times.values() for t in ts)

    def pct(values: list[float], p: float) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]

    print(f"\n{name}: {n} episodes, {len(everything)} searches (page + total + 5 facets each;")
    print(f"  counting stops at {search.COUNT_LIMIT} hits, shown as N+)")
    print(f"  {'query [hits]':<36} {'p50 ms':>8} {'p95 ms':>8}")
    for label, ts in times.items():
        print(f"  {label:<36} {pct(ts, 50):8.1f} {pct(ts, 95):8.1f}")
    print(f"  {'ALL':<36} {pct(everything, 50):8.1f} {pct(everything, 95):8.1f}")
    print(f"  mean {statistics.mean(everything):.1f} ms")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"  load average {load} on {os.cpu_count()} CPUs (other work slows the figures)")


def _populated(db: Database, n: int) -> bool:
    with db.session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(Episode)) == n


def _generate(db: Database, n: int, rng: random.Random, name: str) -> None:
    t0 = time.perf_counter()
    populate(db, n, rng)
    print(f"  {name}: generated in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


def run_sqlite(n: int, runs: int, rng: random.Random, keep: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="mam-bench-") as tmp:
        url = f"sqlite:///{(keep or Path(tmp)) / f'bench-{n}.db'}"
        migrate.upgrade(url)
        db = Database(url)
        if not (keep and _populated(db, n)):
            _generate(db, n, rng, "sqlite")
        report("SQLite (FTS5 bigram)", measure(db, runs), n)
        db.dispose()


def run_postgres(url: str, n: int, runs: int, rng: random.Random, keep: bool) -> None:
    schema = f"mam_bench_keep_{n}" if keep else f"mam_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    scoped = f"{url}?options=-csearch_path%3D{schema}"
    try:
        migrate.upgrade(scoped)
        db = Database(scoped)
        if not (keep and _populated(db, n)):
            _generate(db, n, rng, "postgres")
        report("PostgreSQL (tsvector bigram + GIN)", measure(db, runs), n)
        db.dispose()
    finally:
        if not keep:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep and reuse the generated databases")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    if not args.no_sqlite:
        run_sqlite(args.episodes, args.runs, random.Random(1), args.keep)
    if not args.no_pg:
        run_postgres(args.pg, args.episodes, args.runs, random.Random(1), bool(args.keep))


if __name__ == "__main__":
    main()
