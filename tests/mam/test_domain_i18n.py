"""Domain messages keep their template and parameters so they can be shown in any language."""

from __future__ import annotations

from mam.errors import Conflict, ProcessingError
from mam.i18n import N_

TABLE = {"《%(title)s》 is already in the library": "《%(title)s》已在资源库中"}


def test_message_is_english_and_translates_with_its_parameters() -> None:
    exc = Conflict(N_("《%(title)s》 is already in the library"), params={"title": "乡村振兴"})
    assert exc.message == "《乡村振兴》 is already in the library"
    assert str(exc) == exc.message
    assert exc.translated(lambda s: TABLE.get(s, s)) == "《乡村振兴》已在资源库中"


def test_unknown_template_falls_back_to_english() -> None:
    exc = ProcessingError(N_("ffmpeg stopped at %(t)s s"), permanent=True, params={"t": 3})
    assert exc.translated(lambda s: s) == "ffmpeg stopped at 3 s"
    assert exc.permanent


def test_a_broken_translation_does_not_hide_the_message() -> None:
    exc = Conflict(N_("version %(id)s"), params={"id": 7})
    assert exc.translated(lambda s: "版本 %(number)s") == "version 7"


def test_plain_messages_still_work() -> None:
    exc = Conflict("plain sentence")
    assert exc.translated(lambda s: {"plain sentence": "普通句子"}.get(s, s)) == "普通句子"
