"""Who may change a programme's episodes: one rule, asked by every path that changes one."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mam.cli import cli
from mam.errors import NotAllowed
from mam.models import Episode, Programme, Role, User, Version, VersionState
from mam.models.catalogue import Subtitle, UploadSession
from mam.models.review import ProgrammeEditor
from mam.runtime import Runtime
from mam.services import metadata
from mam.services.importer import Importer
from mam.services.inbox import inbox_for
from mam.services.ingest import IngestService
from mam.services.review import ReviewService
from mam.services.subtitles import SubtitleService
from mam.services.uploads import UploadService
from tests import factories
from tests.conftest import unique_copy

SRT = "1\n00:00:00,000 --> 00:00:01,000\n字幕\n".encode()


def person(session: Session, name: str, *roles: Role) -> User:
    user = factories.user(session, *roles, username=name)
    user.display_name = {"zhang": "张编导", "wang": "王编导", "li": "李编辑"}.get(name, name)
    session.commit()
    return user


@pytest.fixture
def people(session: Session) -> dict[str, User]:
    return {
        "zhang": person(session, "zhang", Role.PRODUCER),
        "wang": person(session, "wang", Role.PRODUCER),
        "li": person(session, "li", Role.PRODUCER),
        "admin": person(session, "boss", Role.ADMIN),
        "reviewer": person(session, "rev", Role.REVIEWER),
    }


def ingest(runtime: Runtime, session: Session, clip: Path, user: User | None, **kw: str):  # type: ignore[no-untyped-def]
    kw.setdefault("programme", "党建引领")
    kw.setdefault("title", "第1集")
    result = IngestService(session, runtime.storage).ingest_file(clip, uploader=user, **kw)
    session.commit()  # the test is the entry point: it ends the unit of work
    return result


def versions(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Version)) or 0


def test_a_producer_who_creates_a_programme_is_its_responsible_producer(
    runtime: Runtime, session: Session, people: dict[str, User], fresh_clip: Path
) -> None:
    result = ingest(runtime, session, fresh_clip, people["zhang"])
    programme = session.scalar(select(Programme).where(Programme.name == "党建引领"))
    assert programme is not None and programme.producer_id == people["zhang"].id
    v = result.version
    v.state = VersionState.READY  # processing finished
    session.commit()
    assert ReviewService(session).can(v, people["zhang"])["submit"]
    assert [x.id for x in inbox_for(session, people["zhang"]).to_submit] == [v.id]


def test_another_producer_cannot_add_a_version_or_an_episode(
    runtime: Runtime, session: Session, people: dict[str, User], fresh_clip: Path, clip: Path
) -> None:
    ingest(runtime, session, fresh_clip, people["zhang"])
    before = sorted(o.key for o in runtime.storage.list(""))
    for title in ("第1集", "第2集"):  # a new cut, then a new episode
        other = unique_copy(clip, fresh_clip.with_name(f"{title}.mp4"))
        with pytest.raises(NotAllowed) as err:
            ingest(runtime, session, other, people["wang"], title=title)
        assert "张编导" in err.value.message and "党建引领" in err.value.message
    assert versions(session) == 1
    assert sorted(o.key for o in runtime.storage.list("")) == before  # nothing stored


def test_editors_and_admins_may_add_versions(
    runtime: Runtime, session: Session, people: dict[str, User], fresh_clip: Path, clip: Path
) -> None:
    ingest(runtime, session, fresh_clip, people["zhang"])
    programme = session.scalars(select(Programme)).one()
    session.add(ProgrammeEditor(programme_id=programme.id, user_id=people["li"].id))
    session.commit()
    ingest(runtime, session, unique_copy(clip, fresh_clip.with_name("b.mp4")), people["li"])
    ingest(runtime, session, unique_copy(clip, fresh_clip.with_name("c.mp4")), people["admin"])
    assert versions(session) == 3


def test_a_programme_without_producer_names_the_administrator(
    runtime: Runtime, session: Session, people: dict[str, User], fresh_clip: Path
) -> None:
    ingest(runtime, session, fresh_clip, None)  # an operator's `mam ingest`: the system
    v = session.scalars(select(Version)).one()
    v.state = VersionState.READY
    session.commit()
    with pytest.raises(NotAllowed, match="administrator must assign"):
        ReviewService(session).submit(v.id, people["zhang"])


def test_tus_creation_is_refused_before_any_byte(
    runtime: Runtime, session: Session, people: dict[str, User], fresh_clip: Path
) -> None:
    v = ingest(runtime, session, fresh_clip, people["zhang"]).version
    uploads = UploadService(
        session, runtime.storage, runtime.settings.upload_staging_dir, max_size=1 << 30
    )
    for meta in ({"episode_id": str(v.episode_id)}, {"programme": "党建引领", "title": "第9集"}):
        with pytest.raises(NotAllowed, match="张编导"):
            uploads.create(people["wang"], length=100, filename="a.mp4", meta=meta)
    assert session.scalar(select(func.count()).select_from(UploadSession)) == 0
    upload = uploads.create(
        people["zhang"], length=100, filename="a.mp4", meta={"episode_id": str(v.episode_id)}
    )
    assert upload.meta["episode_id"] == v.episode_id


def test_metadata_and_subtitles_need_edit_rights(
    runtime: Runtime, session: Session, people: dict[str, User], fresh_clip: Path
) -> None:
    episode = ingest(runtime, session, fresh_clip, people["zhang"]).version.episode
    cleaned = metadata.clean_metadata(session, {"synopsis": "改写"})
    with pytest.raises(NotAllowed):
        metadata.apply_metadata(session, episode, cleaned, people["wang"], title="改名")
    with pytest.raises(NotAllowed):
        SubtitleService(session, runtime.storage).attach(
            episode, SRT, "a.srt", "zh", people["wang"]
        )
    session.rollback()
    assert episode.title == "第1集" and episode.synopsis == ""
    assert session.scalar(select(func.count()).select_from(Subtitle)) == 0
    metadata.apply_metadata(session, episode, cleaned, people["zhang"], title="改名")
    session.commit()
    assert episode.title == "改名" and episode.synopsis == "改写"


def test_a_released_episode_keeps_what_the_counties_received(
    runtime: Runtime, session: Session, people: dict[str, User], fresh_clip: Path
) -> None:
    v = ingest(runtime, session, fresh_clip, people["zhang"]).version
    v.state = VersionState.RELEASED
    session.commit()
    episode = v.episode
    for change in ({"synopsis": "改写"}, {"number": "3"}):
        cleaned = metadata.clean_metadata(session, change)
        with pytest.raises(NotAllowed, match="released") as err:
            metadata.apply_metadata(session, episode, cleaned, people["zhang"])
        assert err.value.details["rule"] == "released"
    with pytest.raises(NotAllowed, match="released"):
        metadata.apply_metadata(session, episode, {}, people["admin"], title="改名")
    with pytest.raises(NotAllowed, match="released"):
        SubtitleService(session, runtime.storage).attach(
            episode, SRT, "a.srt", "zh", people["zhang"]
        )
    session.rollback()
    allowed = metadata.clean_metadata(
        session, {"keywords": "党建", "rights_expiry": "2031-01-01", "synopsis": ""}
    )
    metadata.apply_metadata(session, episode, allowed, people["zhang"])  # unchanged synopsis
    session.commit()
    assert metadata.metadata_dict(session, episode)["keywords"] == ["党建"]
    assert session.get_one(Episode, episode.id).title == "第1集"


def write_manifest(folder: Path, rows: list[dict[str, str]]) -> Path:
    path = folder / "清单.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["文件", "栏目", "标题"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_the_importer_reports_rights_per_line_in_a_dry_run(
    runtime: Runtime,
    session: Session,
    people: dict[str, User],
    fresh_clip: Path,
    clip: Path,
    tmp_path: Path,
) -> None:
    ingest(runtime, session, fresh_clip, people["zhang"])
    folder = tmp_path / "批次"
    folder.mkdir()
    unique_copy(clip, folder / "a.mp4")
    unique_copy(clip, folder / "b.mp4")
    manifest = write_manifest(
        folder,
        [
            {"文件": "a.mp4", "栏目": "党建引领", "标题": "第2集"},
            {"文件": "b.mp4", "栏目": "新栏目", "标题": "第1集"},
        ],
    )
    importer = Importer(session, runtime.storage, create_programmes=True)
    plan = importer.plan(folder, manifest, uploader=people["wang"])
    assert len(plan.problems) == 1 and plan.problems[0].startswith("line 2: ")
    assert "张编导" in plan.problems[0]
    assert importer.plan(folder, manifest, uploader=people["zhang"]).problems == []
    assert importer.plan(folder, manifest, uploader=people["reviewer"]).bad_lines() == {2, 3}


def test_the_cli_holds_as_user_to_edit_rights(
    runtime: Runtime,
    session: Session,
    people: dict[str, User],
    fresh_clip: Path,
    clip: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ingest(runtime, session, fresh_clip, people["zhang"])
    session.commit()
    for key, value in runtime.settings.to_env().items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    other = unique_copy(clip, tmp_path / "b.mp4")
    args = ["ingest", str(other), "--programme", "党建引领", "--title", "第2集", "--as-user"]
    refused = runner.invoke(cli, [*args, "wang"])
    assert refused.exit_code == NotAllowed.exit_code and "张编导" in refused.output
    folder = tmp_path / "批次"
    folder.mkdir()
    unique_copy(clip, folder / "a.mp4")
    manifest = write_manifest(folder, [{"文件": "a.mp4", "栏目": "党建引领", "标题": "第3集"}])
    dry = ["import", str(folder), "--manifest", str(manifest), "--dry-run", "--as-user"]
    result = runner.invoke(cli, [*dry, "wang"])
    assert result.exit_code == 2 and "line 2: Only the responsible producer" in result.output
    assert runner.invoke(cli, [*dry, "zhang"]).exit_code == 0
    assert versions(session) == 1
