"""The timed subtitle editor (issue #14 item 2): operations snap to the version's frames,
saves refuse bad cue lists naming the cue (in Chinese too), each save is a revision, and a
word spoken in a film (a Chinese word inside a cue) is found with the cue's time."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mam.errors import InvalidInput, NotAllowed
from mam.i18n import translator
from mam.models import AuditEvent, Role, Version
from mam.models.catalogue import Subtitle, SubtitleCue
from mam.search_subtitles import search_cues
from mam.services.subtitle_editor import SubtitleEditor, apply, validate
from mam.services.subtitles import (
    Cue,
    SubtitleService,
    reindex_subtitles,
    subtitle_cues,
    subtitle_vtt,
)
from storage import create_storage
from tests import factories
from tests.mam.review_helpers import make_world

CUES = [Cue(1.0, 3.0, "大家好"), Cue(4.0, 6.0, "今天讲基层党建")]


def ntsc(version: Version, session: Session) -> None:
    """Give the version a 29.97 fps source (30000/1001), as the probe stores it."""
    version.asset.media_info = {
        "container": "mov,mp4", "format_long_name": "QuickTime / MOV", "duration": 10.0,
        "video": [{"index": 0, "codec": "h264", "profile": None, "width": 640, "height": 360,
                   "sar": "1:1", "dar": "16:9", "frame_rate": "30000/1001",
                   "avg_frame_rate": "30000/1001", "field_order": "progressive", "rotation": 0,
                   "pix_fmt": "yuv420p", "bit_rate": None, "frames": 300}],
    }  # fmt: skip
    session.flush()


# ---- operations (pure): literal expected times ------------------------------------------


def test_add_at_the_playhead_starts_on_the_frame_shown_and_lasts_two_seconds() -> None:
    # 25 fps: 7.05 s shows frame 176, which starts at 7.04 s.
    cues = apply("add", CUES, fps=25, at=7.05)
    assert cues[-1] == Cue(7.04, 9.04, "")
    # Added before a cue that starts sooner than 2 s later: it ends where that one starts.
    cues = apply("add", CUES, fps=25, at=3.3)
    assert cues == [CUES[0], Cue(3.28, 4.0, ""), CUES[1]]


def test_split_at_the_playhead_makes_two_cues_meeting_on_a_frame() -> None:
    assert apply("split", CUES, fps=25, at=5.01, selected=[1]) == [
        CUES[0], Cue(4.0, 5.0, "今天讲基层党建"), Cue(5.0, 6.0, "今天讲基层党建"),
    ]  # fmt: skip
    # 29.97 fps: 2.5 s shows frame 74 (74 × 1001 / 30000 = 2.469 s).
    assert apply("split", CUES, fps=30000 / 1001, at=2.5, selected=[0]) == [
        Cue(1.0, 2.469, "大家好"), Cue(2.469, 3.0, "大家好"), CUES[1],
    ]  # fmt: skip


def test_split_outside_the_cue_or_without_one_chosen_is_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        apply("split", CUES, fps=25, at=3.5, selected=[0])
    assert exc.value.code == "subtitles.not_inside"
    assert exc.value.params == {"at": "00:00:03.480", "n": 1}
    with pytest.raises(InvalidInput) as exc:
        apply("split", CUES, fps=25, at=1.5, selected=[])
    assert exc.value.code == "subtitles.no_cue"


def test_shift_moves_the_selected_cues_or_all_snapping_to_frames() -> None:
    # +130 ms at 25 fps: 4.13 rounds to frame 103 (4.12 s).
    assert apply("shift", CUES, fps=25, ms=130, selected=[1]) == [
        CUES[0], Cue(4.12, 6.12, "今天讲基层党建"),
    ]  # fmt: skip
    assert apply("shift", CUES, fps=25, ms=-500) == [
        Cue(0.52, 2.52, "大家好"), Cue(3.52, 5.52, "今天讲基层党建"),
    ]  # fmt: skip
    with pytest.raises(InvalidInput) as exc:
        apply("shift", CUES, fps=25, ms=-1500)
    assert exc.value.code == "subtitles.cue_times"


def test_in_and_out_from_the_playhead() -> None:
    assert apply("set_in", CUES, fps=25, at=1.23, selected=[0])[0] == Cue(1.2, 3.0, "大家好")
    # The out point includes the frame shown: frame 62 (2.48 s) ends at 2.52 s.
    assert apply("set_out", CUES, fps=25, at=2.5, selected=[0])[0] == Cue(1.0, 2.52, "大家好")
    with pytest.raises(InvalidInput):
        apply("set_in", CUES, fps=25, at=3.5, selected=[0])  # after its out point
    assert apply("delete", CUES, fps=25, selected=[0]) == [CUES[1]]
    with pytest.raises(InvalidInput) as exc:
        apply("explode", CUES, fps=25)
    assert exc.value.code == "subtitles.operation"


@pytest.mark.parametrize(
    ("cues", "code", "params"),
    [
        ([Cue(1, 2, "  "), Cue(3, 4, "b")], "subtitles.cue_empty", {"n": 1}),
        ([Cue(1, 2, "a"), Cue(3, 3, "b")], "subtitles.cue_times", {"n": 2}),
        ([Cue(-1, 2, "a")], "subtitles.cue_times", {"n": 1}),
        ([Cue(3, 4, "a"), Cue(1, 2, "b")], "subtitles.cue_order", {"n": 2, "prev": 1}),
        (
            [Cue(1, 2.6, "a"), Cue(2.0, 3, "b")],
            "subtitles.cue_overlap",
            {"n": 2, "prev": 1, "end": "00:00:02.600"},
        ),
        ([Cue(1, 2, "字" * 501)], "subtitles.cue_too_long", {"n": 1, "limit": 500}),
    ],
)
def test_validation_refuses_naming_the_cue(cues: list[Cue], code: str, params: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidInput) as exc:
        validate(cues, 25)
    assert exc.value.code == code
    assert exc.value.params == params


def test_refusals_read_in_chinese() -> None:
    with pytest.raises(InvalidInput) as exc:
        validate([Cue(1, 2.6, "a"), Cue(2.0, 3, "b")], 25)
    zh = exc.value.translated(translator("zh_CN"))
    assert zh == "第 2 条字幕在第 1 条结束（00:00:02.600）之前开始。"


def test_validation_snaps_typed_times_and_tidies_text() -> None:
    assert validate([Cue(1.013, 2.99, " 第一行 \n\n 第二行 ")], 25) == [
        Cue(1.0, 3.0, "第一行\n第二行")
    ]


# ---- saving: revisions, audit, rights, the read API, search -------------------------------


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    return create_storage("local", root=str(tmp_path / "store"))


def test_each_save_is_an_audited_revision_and_the_read_api_returns_it(
    db_session: Session, store
) -> None:  # type: ignore[no-untyped-def]
    world = make_world(db_session)
    version = world.version()
    ntsc(version, db_session)
    editor = SubtitleEditor(db_session, store)
    first = editor.save(
        version, "zh_CN", [{"start": "00:00:01.000", "end": 2.0, "text": "大家好"}], world.producer
    )
    second = editor.save(
        version, "zh", [{"start": 1.0, "end": 2.0, "text": "大家好"},
                        {"start": 2.5, "end": 4.0, "text": "今天讲基层党建工作"}], world.producer,
    )  # fmt: skip
    db_session.commit()
    assert (first.revision, first.is_current, second.revision) == (1, False, 2)
    # 29.97 fps: 2.0 s is frame 59.94 -> 60 (2.002 s); 2.5 -> frame 75 (2.502 s).
    assert subtitle_vtt(db_session, store, version.id, "zh") == (
        "WEBVTT\n\n00:00:01.001 --> 00:00:02.002\n大家好\n\n"
        "00:00:02.502 --> 00:00:04.004\n今天讲基层党建工作\n"
    )
    assert subtitle_cues(db_session, store, version.id, "en") == []
    with store.open(first.storage_key) as fh:  # the previous text is kept
        assert "今天" not in fh.read().decode()
    audits = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "edit_subtitle").order_by(AuditEvent.id)
    ).all()
    assert [(a.object_id, a.details["revision"], a.details["cues"]) for a in audits] == [
        (version.id, 1, 1), (version.id, 2, 2),
    ]  # fmt: skip
    # Search: a two-character Chinese word inside a cue finds it with the cue's time;
    # the replaced revision's cues are gone from the index.
    hits = search_cues(db_session, "党建")
    assert [(h.episode_id, h.version_id, h.start, h.text) for h in hits] == [
        (world.episode.id, version.id, 2.502, "今天讲基层党建工作")
    ]
    assert [h.start for h in search_cues(db_session, "大家 好")] == [1.001]
    assert search_cues(db_session, "振兴") == []
    assert (
        db_session.scalar(select(SubtitleCue.id).where(SubtitleCue.subtitle_id == first.id)) is None
    )


def test_a_version_row_wins_over_the_episode_row_and_others_only_read(
    db_session: Session, store
) -> None:  # type: ignore[no-untyped-def]
    world = make_world(db_session)
    v1, v2 = world.version(), world.version()
    vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n整集字幕\n".encode()
    SubtitleService(db_session, store).attach(world.episode, vtt, "a.vtt", "zh", world.producer)
    SubtitleEditor(db_session, store).save(
        v2, "zh", [{"start": 1, "end": 2, "text": "第二版字幕"}], world.producer
    )
    assert [c.text for c in subtitle_cues(db_session, store, v1.id)] == ["整集字幕"]
    assert [c.text for c in subtitle_cues(db_session, store, v2.id)] == ["第二版字幕"]
    other = factories.user(db_session, Role.PRODUCER, username="other_producer")
    with pytest.raises(NotAllowed):
        SubtitleEditor(db_session, store).save(v2, "zh", [], other)
    with pytest.raises(NotAllowed):
        SubtitleEditor(db_session, store).save(v2, "zh", [], world.first)  # a reviewer
    assert db_session.scalar(select(Subtitle.id).where(Subtitle.language == "zh",
                                                       Subtitle.version_id == v2.id,
                                                       Subtitle.revision == 2)) is None  # fmt: skip


def test_reindex_rebuilds_the_cue_index_from_the_current_files(db_session: Session, store) -> None:  # type: ignore[no-untyped-def]
    world = make_world(db_session)
    world.version()
    vtt = "WEBVTT\n\n00:01:02.000 --> 00:01:04.000\n发展合作社\n".encode()
    SubtitleService(db_session, store).attach(world.episode, vtt, "a.vtt", "zh", world.producer)
    db_session.execute(delete(SubtitleCue))  # as before revision 0023_subtitles: no index
    assert search_cues(db_session, "合作") == []
    assert reindex_subtitles(db_session, store) == 1
    assert [(h.start, h.text) for h in search_cues(db_session, "合作")] == [(62.0, "发展合作社")]
