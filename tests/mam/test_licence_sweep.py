"""The licence sweep on a frozen calendar: a notice 30 days ahead, the withdrawal and a notice
on the day the licence expires, each once however often the beat runs (SQLite, PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.cli import cli
from mam.config import Settings
from mam.models import AuditEvent, County, Rendition, Role, SourceType, VersionState
from mam.models.licence import LicenceNotice
from mam.models.release import ReleaseSet
from mam.runtime import Runtime
from mam.services.licence_sweep import LicenceSweep
from mam.services.licences import LicenceForm, LicenceService
from mam.services.notify import Notice, SmtpNotifier
from mam.services.releases import ReleaseService
from mam.services.study import StudyService
from tests import factories
from workers.celery_app import LICENCE_SWEEP_TASK, make_celery

END = date(2027, 3, 31)  # the licence's last day
ALL = ("tv", "playback", "web")


class Outbox:
    """A notifier that keeps what it is handed (after the commit) and writes each mail as
    the SMTP notifier would, in the recipient's language."""

    def __init__(self) -> None:
        self.sent: list[Notice] = []
        self.smtp = SmtpNotifier("smtp://localhost:25", "mam@example.org", "https://mam.example")

    def send(self, notice: Notice) -> None:
        self.sent.append(notice)

    def mails(self) -> list[tuple[str, str, str]]:
        """Return (recipient, subject, body) of every mail, in sending order."""
        return [
            (u.username, str(m["Subject"]), m.get_content())
            for n in self.sent
            for u in n.recipients
            for m in [self.smtp.message(n, u)]
        ]


@pytest.fixture
def world(db_session: Session) -> dict:  # type: ignore[type-arg]
    return make_world(db_session)


def make_world(s: Session) -> dict:  # type: ignore[type-arg]
    """Two counties with staff, a learner of 甲县, an imported film licensed to END and
    published to 甲县 (committed)."""
    tag = uuid.uuid4().hex[:4]
    a, b = County(code=f"a{tag}", name="甲县"), County(code=f"b{tag}", name="乙县")
    s.add_all([a, b])
    s.flush()
    publisher = factories.user(s, Role.PUBLISHER, username=f"pub{tag}")
    publisher.email = "pub@example.org"
    staff_a = factories.user(s, Role.COUNTY, username=f"ca{tag}")
    staff_a.county_id, staff_a.email = a.id, "a@example.org"
    staff_b = factories.user(s, Role.COUNTY, username=f"cb{tag}")
    staff_b.county_id, staff_b.email, staff_b.locale = b.id, "b@example.org", "en"
    learner = factories.user(s, Role.LEARNER)
    learner.county_id = a.id
    v = factories.version(s, VersionState.APPROVED, programme=f"引进{tag}", title="大国粮仓")
    v.episode.source_type = SourceType.IMPORTED
    v.renditions.append(
        Rendition(profile="web", storage_key=f"renditions/{v.id}/web/master.m3u8",
                  mime_type="application/vnd.apple.mpegurl", size=1)
    )  # fmt: skip
    admin = factories.user(s, Role.ADMIN)
    LicenceService(s).save(
        admin, LicenceForm(holder="中央新影", ends_on=END.isoformat(), uses=ALL),
        episode=v.episode,
    )  # fmt: skip
    releases = ReleaseService(s)
    release = releases.create(f"2027年第{tag}期", publisher)
    releases.add_version(release, v.id, publisher)
    releases.set_targets(release, [a.id], publisher)
    releases.publish(release, publisher)
    s.commit()
    return {"release": release, "learner": learner, "version": v, "tag": tag, "b": b.id}


def sweep(s: Session, outbox: Outbox, day: date) -> tuple[list[str], list[str]]:
    """One beat run on ``day`` in its own unit of work; return (notice kinds, withdrawn)."""
    before = len(outbox.sent)
    result = LicenceSweep(s, outbox).run(day)
    s.commit()  # the mail goes after the commit
    assert len(outbox.sent) >= before
    return [k for _, k in result.notices], result.withdrawn


def test_notice_ahead_then_withdrawal_and_notice_on_the_day_each_once(
    db_session: Session,
    world: dict,  # type: ignore[type-arg]
) -> None:
    s, outbox, tag = db_session, Outbox(), world["tag"]
    release: ReleaseSet = world["release"]
    assert sweep(s, outbox, END - timedelta(days=31)) == ([], [])  # not yet due
    assert sweep(s, outbox, END - timedelta(days=30)) == (["ahead"], [])
    assert outbox.mails() == [
        (
            f"pub{tag}",
            "版权许可将于 2027-03-31 到期：《引进" + tag + "》大国粮仓",
            f"《引进{tag}》大国粮仓 的版权许可（中央新影）将于 2027-03-31 到期。"
            "若不续签，次日起含该片的供片批次将被撤回，网上学习也将停止。\n\n打开：https://mam.example/episodes/"
            f"{world['version'].episode_id}#licence\n",
        ),
        (
            f"ca{tag}",
            "版权许可将于 2027-03-31 到期：《引进" + tag + "》大国粮仓",
            f"《引进{tag}》大国粮仓 的版权许可（中央新影）将于 2027-03-31 到期。"
            "若不续签，次日起含该片的供片批次将被撤回，网上学习也将停止。\n\n打开：https://mam.example/county/\n",
        ),
    ]  # 乙县 received nothing: its staff hear nothing
    for day in (END - timedelta(days=30), END - timedelta(days=1), END):  # again: nothing
        assert sweep(s, outbox, day) == ([], [])
    assert len(outbox.sent) == 2
    s.refresh(release)
    assert release.state.value == "published"  # its last day is still licensed
    # The day it expires: withdrawn by the system with a Chinese reason, and one notice.
    assert sweep(s, outbox, END + timedelta(days=1)) == (["expired"], [release.name])
    s.refresh(release)
    assert release.state.value == "withdrawn"
    assert release.withdrawn_reason == (
        "《大国粮仓》的版权许可已于 2027-03-31 到期，本批次已自动撤回。"
    )
    subjects = [m[1] for m in outbox.mails()[2:]]
    assert subjects == [f"版权许可已到期：《引进{tag}》大国粮仓"] * 2
    assert f"已撤回的供片批次：{release.name}。" in outbox.mails()[-1][2]
    assert not StudyService(s).may_stream(world["learner"], world["version"].id)
    for day in (END + timedelta(days=1), END + timedelta(days=2)):  # again: nothing
        assert sweep(s, outbox, day) == ([], [])
    assert len(outbox.sent) == 4
    audit = s.execute(
        select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.details["kind"].as_string())
        .where(AuditEvent.action.in_(["licence_notice_sent", "release_withdrawn"]))
        .order_by(AuditEvent.id)
    ).all()
    assert [tuple(r) for r in audit] == [
        ("licence_notice_sent", None, "ahead"),
        ("release_withdrawn", None, None),
        ("licence_notice_sent", None, "expired"),
    ]
    assert s.scalar(select(LicenceNotice.recipients).where(LicenceNotice.kind == "expired")) == 2


def test_a_renewed_licence_is_watched_again(
    db_session: Session,
    world: dict,  # type: ignore[type-arg]
) -> None:
    s, outbox = db_session, Outbox()
    assert sweep(s, outbox, END - timedelta(days=10)) == (["ahead"], [])
    episode = world["version"].episode
    admin = factories.user(s, Role.ADMIN)
    renewed = END + timedelta(days=365)
    LicenceService(s).save(
        admin, LicenceForm(holder="中央新影", ends_on=renewed.isoformat(), uses=ALL),
        episode=episode,
    )  # fmt: skip
    s.commit()
    assert sweep(s, outbox, END + timedelta(days=1)) == ([], [])  # renewed: nothing ends
    assert sweep(s, outbox, renewed - timedelta(days=5)) == (["ahead"], [])
    s.refresh(world["release"])
    assert world["release"].state.value == "published"


def test_a_narrowed_licence_withdraws_a_missing_one_does_not(
    db_session: Session, world: dict  # type: ignore[type-arg]
) -> None:
    s, outbox = db_session, Outbox()
    episode = world["version"].episode
    admin = factories.user(s, Role.ADMIN)
    licences = LicenceService(s)
    licences.remove(admin, episode=episode)  # as if published before licences existed
    s.commit()
    assert sweep(s, outbox, END - timedelta(days=60)) == ([], [])
    s.refresh(world["release"])
    assert world["release"].state.value == "published"
    assert not StudyService(s).may_stream(world["learner"], world["version"].id)  # not online
    other = world["b"]
    licences.save(
        admin, LicenceForm(holder="中央新影", uses=ALL, all_counties=False, county_ids=(other,)),
        episode=episode,
    )  # fmt: skip
    s.commit()
    assert sweep(s, outbox, END - timedelta(days=60)) == ([], [world["release"].name])
    s.refresh(world["release"])
    assert world["release"].withdrawn_reason == (
        "《大国粮仓》已不在版权许可范围内（许可范围不包括甲县），本批次已自动撤回。"
    )


def test_the_beat_runs_the_sweep_hourly(settings: Settings) -> None:
    app = make_celery(settings)
    app.loader.import_default_modules()
    entries = [e for e in app.conf.beat_schedule.values() if e["task"] == LICENCE_SWEEP_TASK]
    assert [e["schedule"] for e in entries] == [3600.0]
    assert LICENCE_SWEEP_TASK in app.tasks



def test_the_cli_lists_what_ends_and_runs_the_sweep(
    runtime: Runtime, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in settings.to_env().items():
        monkeypatch.setenv(key, value)
    with runtime.db.session() as s:
        made = make_world(s)
        name = made["release"].name
    run = CliRunner()
    listed = run.invoke(cli, ["licences", "expiring", "--on", "2027-03-01"], catch_exceptions=False)
    assert listed.exit_code == 0
    assert listed.stdout.splitlines() == [
        f"expiring  2027-03-31  中央新影  episode {made['version'].episode_id} 《大国粮仓》"
    ]
    early = run.invoke(cli, ["licences", "expiring", "--on", "2027-02-01"], catch_exceptions=False)
    assert early.stdout == ""
    swept = run.invoke(cli, ["licences", "sweep", "--on", "2027-04-01"], catch_exceptions=False)
    lines = swept.stdout.splitlines()
    assert lines[1:] == [f"withdrawn: {name}"] and lines[0].startswith("notice expired for licence")
    again = run.invoke(cli, ["licences", "sweep", "--on", "2027-04-01"], catch_exceptions=False)
    assert again.stdout == ""
    bad = run.invoke(cli, ["licences", "sweep", "--on", "2027-13-01"])
    assert bad.exit_code == 2 and "not a date" in bad.output
