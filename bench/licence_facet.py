"""What the licence facet costs a search: the same queries with the facet computed per hit
and with it replaced by a constant, alternated in one run (SQLite and PostgreSQL).

    .venv/bin/python bench/licence_facet.py [--episodes 20000] [--runs 10] [--no-pg]

Data: bench/search.py's generated catalogue; one episode in ten gets a licence of its own,
and one programme in four a programme licence, with end dates around today.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mam import migrate, search, search_facets
from mam.db import Database
from mam.models import Episode, Programme
from mam.models.licence import Licence

_spec = importlib.util.spec_from_file_location("search_bench", Path(__file__).with_name("search.py"))
assert _spec and _spec.loader
search_bench: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(search_bench)


def licensed(db: Database, rng: random.Random) -> None:
    """Give one episode in ten, and one programme in four, a licence."""
    today = date.today()
    with db.session() as s:
        ids = list(s.scalars(sa.select(Episode.id)))
        rows = [
            {"episode_id": i, "holder": "中央新影", "contract_ref": "", "notes": "",
             "uses": ["tv", "playback", "web"], "all_counties": True,
             "ends_on": today + timedelta(days=rng.randint(-60, 400))}
            for i in rng.sample(ids, len(ids) // 10)
        ]  # fmt: skip
        for p in list(s.scalars(sa.select(Programme.id)))[::4]:
            rows.append({"programme_id": p, "holder": "省电教馆", "contract_ref": "", "notes": "",
                         "uses": ["web"], "all_counties": True,
                         "ends_on": today + timedelta(days=rng.randint(-60, 400))})  # fmt: skip
        s.execute(sa.insert(Licence), rows)
        s.commit()


def measure(db: Database, runs: int) -> tuple[list[float], list[float]]:
    """Return per-search milliseconds with the licence facet and with a constant instead."""
    real = search_facets.licence_state
    with_facet: list[float] = []
    without: list[float] = []
    with db.session() as s:
        for _ in range(runs):
            for text, filters in search_bench.QUERIES:
                if any(v in ("TOPIC", "PROG") for v in filters.values()):
                    continue
                q = search.SearchQuery(text=text, **filters)  # type: ignore[arg-type]
                for patched, bucket in ((False, with_facet), (True, without)):
                    search_facets.licence_state = (  # type: ignore[assignment]
                        (lambda es, day=None: sa.literal("none")) if patched else real
                    )
                    search.licence_state = search_facets.licence_state  # type: ignore[attr-defined]
                    t0 = time.perf_counter()
                    search.search(s, q)
                    bucket.append((time.perf_counter() - t0) * 1000)
                    s.rollback()
    search_facets.licence_state = real
    search.licence_state = real  # type: ignore[attr-defined]
    return with_facet, without


def report(name: str, n: int, with_facet: list[float], without: list[float]) -> None:
    def p(values: list[float], q: float) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]

    print(f"{name}: {n} episodes, {len(with_facet)} searches each way")
    for label, ts in (("with licence facet", with_facet), ("constant instead", without)):
        print(f"  {label:<20} p50 {p(ts, 50):7.1f} ms  p95 {p(ts, 95):7.1f} ms"
              f"  mean {statistics.mean(ts):7.1f} ms")  # fmt: skip
    print(f"  ratio of means {statistics.mean(with_facet) / statistics.mean(without):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)
        db = Database(url)
        search_bench.populate(db, args.episodes, random.Random(1))
        licensed(db, random.Random(2))
        report("SQLite", args.episodes, *measure(db, args.runs))
        db.dispose()
    if args.no_pg:
        return
    schema = f"mam_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.pg)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        url = f"{args.pg}?options=-csearch_path%3D{schema}"
        migrate.upgrade(url)
        db = Database(url)
        search_bench.populate(db, args.episodes, random.Random(1))
        licensed(db, random.Random(2))
        report("PostgreSQL", args.episodes, *measure(db, args.runs))
        db.dispose()
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


if __name__ == "__main__":
    main()
