"""Assessment figures against values worked out by hand (tests/assessment_world.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from mam.db import make_engine
from mam.errors import InvalidInput
from mam.services.assessment import AssessmentService, ScreeningFilter, parse_weights
from mam.services.assessment_sql import Grain, Period, Scope
from tests import assessment_world
from tests.assessment_world import World

MARCH_APRIL = Period.months("2026-03", "2026-04")


@pytest.fixture
def db(database_url: str) -> Iterator[tuple[Session, World]]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        world = assessment_world.build(session)
        session.commit()
        yield session, world
    engine.dispose()


def _figures(row: object) -> dict[str, tuple[int, int]]:
    return {f.indicator.name: (f.numerator, f.denominator) for f in row.figures}  # type: ignore[attr-defined]


def test_county_figures_and_scores(db: tuple[Session, World]) -> None:
    session, _ = db
    rows = AssessmentService(session).scores(Grain.COUNTY, MARCH_APRIL, Scope())
    assert [(r.rank, r.name, r.score) for r in rows] == [(1, "甲县", 65.9), (2, "乙县", 50.8)]
    a, b = rows
    assert _figures(a) == {
        "plan": (3, 5),
        "utilisation": (2, 3),
        "coverage": (3, 4),
        "buildout": (3, 4),
        "receipts": (1, 2),
        "study": (0, 0),  # no learners: left out of the score
    }
    assert (a.attendance, a.held) == (215, 5)
    assert _figures(b) == {
        "plan": (1, 2),
        "utilisation": (1, 3),
        "coverage": (1, 1),
        "buildout": (1, 2),
        "receipts": (0, 2),
        "study": (0, 0),
    }
    assert (b.attendance, b.held) == (50, 1)


def test_township_figures_inside_a_county(db: tuple[Session, World]) -> None:
    session, w = db
    rows = AssessmentService(session).scores(
        Grain.TOWNSHIP, MARCH_APRIL, Scope(county_id=w.counties["A"])
    )
    assert [(r.name, r.score) for r in rows] == [("城关镇", 74.1), ("河西乡", 62.0)]
    assert _figures(rows[0]) == {
        "plan": (2, 4),
        "utilisation": (2, 3),
        "coverage": (2, 2),
        "buildout": (2, 2),
        "study": (0, 0),  # no learners at its points: left out of the score
    }
    assert _figures(rows[1]) == {
        "plan": (1, 1),
        "utilisation": (1, 3),
        "coverage": (1, 2),
        "buildout": (1, 2),
        "study": (0, 0),
    }


def test_point_figures_of_one_township(db: tuple[Session, World]) -> None:
    session, w = db
    rows = AssessmentService(session).scores(
        Grain.POINT, MARCH_APRIL, Scope(township_id=w.townships["T1"])
    )
    by_name = {r.name: (_figures(r), r.attendance, r.held) for r in rows}
    assert by_name == {
        "东村放映点": ({"plan": (1, 3), "coverage": (1, 1), "study": (0, 0)}, 60, 2),
        "南街社区放映点": ({"plan": (1, 1), "coverage": (1, 1), "study": (0, 0)}, 25, 1),
    }


def test_weights_change_the_score(db: tuple[Session, World]) -> None:
    session, _ = db
    weights = parse_weights("plan=100,utilisation=0,coverage=0,buildout=0,receipts=0")
    rows = AssessmentService(session, weights=weights).scores(Grain.COUNTY, MARCH_APRIL, Scope())
    assert [(r.name, r.score) for r in rows] == [("甲县", 60.0), ("乙县", 50.0)]


def test_receipt_days_decide_timeliness(db: tuple[Session, World]) -> None:
    session, _ = db
    rows = AssessmentService(session, receipt_days=8).scores(Grain.COUNTY, MARCH_APRIL, Scope())
    assert {r.name: _figures(r)["receipts"] for r in rows} == {"甲县": (1, 2), "乙县": (1, 2)}


def test_monthly_figures(db: tuple[Session, World]) -> None:
    session, w = db
    monthly = AssessmentService(session).monthly(Grain.COUNTY, MARCH_APRIL, Scope())
    a, b = w.counties["A"], w.counties["B"]
    got = {k: (v.planned, v.done, v.held, v.attendance) for k, v in sorted(monthly.cells.items())}
    assert got == {
        (a, "2026-03"): (4, 3, 4, 195),
        (a, "2026-04"): (1, 0, 1, 20),
        (b, "2026-03"): (2, 1, 1, 50),
    }
    assert monthly.months == ["2026-03", "2026-04"]
    total = monthly.total("2026-03")
    assert (total.planned, total.done, total.held, total.attendance) == (6, 4, 5, 245)


def test_drill_down_lists_the_screenings_behind_a_month(db: tuple[Session, World]) -> None:
    session, w = db
    rows, total = AssessmentService(session).screenings(
        MARCH_APRIL, Scope(), ScreeningFilter(county_id=w.counties["A"], month="2026-03")
    )
    s = w.screenings
    assert total == 5
    assert [r.id for r in rows] == [s["s7"], s["s3"], s["s4"], s["s2"], s["s1"]]


def test_drill_down_stays_inside_the_scope(db: tuple[Session, World]) -> None:
    session, w = db
    rows, total = AssessmentService(session).screenings(
        MARCH_APRIL,
        Scope(county_id=w.counties["A"], township_id=w.townships["T1"]),
        ScreeningFilter(county_id=w.counties["B"]),
    )
    assert (rows, total) == ([], 0)
    rows, _ = AssessmentService(session).screenings(
        MARCH_APRIL, Scope(township_id=w.townships["T1"]), ScreeningFilter()
    )
    s = w.screenings
    assert [r.id for r in rows] == [s["s5"], s["s3"], s["s2"], s["s1"]]


def test_periods_and_weights_are_checked() -> None:
    assert Period.months("2025-11", "2026-02").month_keys() == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]
    for first, last in [("2026-13", "2026-12"), ("2026-04", "2026-03"), ("2020-01", "2026-01")]:
        with pytest.raises(InvalidInput):
            Period.months(first, last)
    with pytest.raises(InvalidInput):
        parse_weights("nonsense=3")
    with pytest.raises(InvalidInput):
        parse_weights("plan=-1")


def test_figures_per_release_set(db: tuple[Session, World]) -> None:
    session, w = db
    service = AssessmentService(session)
    county = service.releases(Grain.COUNTY, MARCH_APRIL, Scope(county_id=w.counties["A"]))
    assert [(r.name, r.supplied, r.screened, r.held, r.attendance) for r in county] == [
        ("2026年第3期", 2, 2, 5, 215),
        ("2026年第4期", 1, 0, 0, 0),
    ]
    town = service.releases(Grain.TOWNSHIP, MARCH_APRIL, Scope(township_id=w.townships["T1"]))
    assert [(r.name, r.supplied, r.screened, r.held, r.attendance) for r in town] == [
        ("2026年第3期", 2, 2, 3, 85),
        ("2026年第4期", 1, 0, 0, 0),
    ]
    rows, total = service.screenings(
        MARCH_APRIL, Scope(), ScreeningFilter(county_id=w.counties["B"], release_id=1_000_000)
    )
    assert (rows, total) == ([], 0)


def test_online_study_participation_is_scored_for_counties(db: tuple[Session, World]) -> None:
    """Learners who studied in the period ÷ the county's learners; it joins the score."""
    from datetime import date

    from sqlalchemy import select

    from mam.models import Episode, Role, User, UserRole
    from mam.models.learning import Learner, StudyDay

    session, w = db
    episode = session.scalars(select(Episode)).first()
    assert episode is not None

    def learner(county: int, phone: str, days: list[str], point: int | None = None) -> None:
        user = User(
            username=phone, display_name=phone, password_hash="-", county_id=county,
            role_rows=[UserRole(role=Role.LEARNER)],
        )  # fmt: skip
        session.add(Learner(user=user, county_id=county, phone=phone, point_id=point))
        session.flush()
        for day in days:
            row = StudyDay(user_id=user.id, episode_id=episode.id, county_id=county)
            row.day, row.seconds = date.fromisoformat(day), 600.0
            session.add(row)

    a, b = w.counties["A"], w.counties["B"]
    learner(a, "13800000001", ["2026-03-02", "2026-04-11"], w.points["P1"])
    learner(a, "13800000002", ["2026-02-27"], w.points["P1"])  # before the period
    learner(a, "13800000003", [], w.points["P3"])
    learner(b, "13800000004", ["2026-04-30"])
    session.commit()
    rows = AssessmentService(session).scores(Grain.COUNTY, MARCH_APRIL, Scope())
    figures = {r.name: _figures(r)["study"] for r in rows}
    assert figures == {"甲县": (1, 3), "乙县": (1, 1)}
    # 甲县: (18 + 16.667 + 15 + 11.25 + 5 + 10 × 1/3) ÷ 110
    # 乙县: (15 + 8.333 + 20 + 7.5 + 0 + 10) ÷ 110
    assert [(r.name, r.score) for r in rows] == [("甲县", 63.0), ("乙县", 55.3)]
    township = AssessmentService(session).scores(
        Grain.TOWNSHIP, MARCH_APRIL, Scope(county_id=a)
    )
    # learners count for the township and the point they belong to
    assert {r.name: _figures(r)["study"] for r in township} == {
        "城关镇": (1, 2),
        "河西乡": (0, 1),
    }
    points = AssessmentService(session).scores(
        Grain.POINT, MARCH_APRIL, Scope(township_id=w.townships["T1"])
    )
    assert {r.name: _figures(r)["study"] for r in points} == {
        "东村放映点": (1, 2),
        "南街社区放映点": (0, 0),
    }
