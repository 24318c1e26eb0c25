"""Every message code of the domain is translated into zh_CN, and codes travel with errors.

The catalogue-completeness test: each code of ``mam.messages`` is rendered in zh_CN with
sample parameters; it fails on a code whose template has no translation, whose translation
drops or invents a placeholder, or that still reads as English.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mam.config import cli_locale
from mam.errors import Conflict, InvalidInput, InvalidMedia, ProcessingError
from mam.i18n import catalogue_locale, translator
from mam.messages import REGISTRY, all_messages, media, processing, render_stored

PLACEHOLDER = re.compile(r"%\((\w+)\)[-+ #0]*\d*(?:\.\d+)?[sdfr]")
HAN = re.compile(r"[\u4e00-\u9fff]")


def sample(template: str) -> dict[str, object]:
    """Return a value for every placeholder of ``template`` (numbers where it wants them)."""
    values: dict[str, object] = {}
    for match in PLACEHOLDER.finditer(template):
        values[match.group(1)] = 3 if match.group(0)[-1] in "df" else "《乡村振兴》"
    return values


def test_the_registry_is_complete_and_codes_are_dotted() -> None:
    messages = all_messages()
    assert len(messages) >= 140
    assert all(re.fullmatch(r"[a-z]+\.[a-z0-9_]+", m.code) for m in messages)
    # A code names one message; one message is not registered twice under two codes.
    assert len({m.template for m in messages}) == len(messages)


@pytest.mark.parametrize("code", sorted(m.code for m in all_messages()))
def test_every_code_is_translated_into_chinese(code: str) -> None:
    message = REGISTRY[code]
    zh = translator("zh_CN")
    translated = zh(message.template)
    assert translated != message.template, f"{code}: no zh_CN translation"
    assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(message.template))
    text = message.render(sample(message.template), zh)
    assert "%(" not in text
    assert HAN.search(text), f"{code}: {text!r} reads as English"
    assert not re.search(r"\b[a-z]+ [a-z]+ [a-z]+\b", text), f"{code}: {text!r}"


def test_errors_carry_their_code_params_and_a_technical_detail() -> None:
    detail = "Invalid data found when processing input"
    exc = InvalidMedia(media.UNREADABLE, params={"file": "讲座.mp4"}, detail=detail)
    assert exc.code == "media.unreadable"
    assert exc.params == {"file": "讲座.mp4"}
    assert exc.translated(translator("zh_CN")) == "讲座.mp4 不是可读取的音视频文件。"
    assert exc.message == (
        "讲座.mp4 is not a readable audio or video file. (Invalid data found when processing input)"
    )


def test_a_bare_template_gets_the_generic_code_of_its_kind() -> None:
    assert Conflict("plain sentence").code == "error.conflict"
    assert InvalidInput("x").code == "error.invalid_input"
    assert ProcessingError("x", permanent=True).code == "error.processing"
    assert {"error.conflict", "error.invalid_input", "error.processing"} <= set(REGISTRY)


def test_nested_messages_render_in_the_readers_language() -> None:
    parts = [
        {"template": "%(count)d decode error(s)", "params": {"count": 2}},
        {"template": "%(output)s has no audio stream", "params": {"output": "proxy"}},
    ]
    exc = ProcessingError(processing.QC_FAILED, params={"reason": parts}, permanent=True)
    assert exc.message == "QC: 2 decode error(s); proxy has no audio stream"
    assert exc.translated(translator("zh_CN")) == "质量检查：解码错误 2 个；proxy 缺少音频流"


def test_stored_rows_without_a_code_keep_their_english_text() -> None:
    zh = translator("zh_CN")
    assert render_stored(None, None, "ffmpeg failed: moov atom not found", zh) == (
        "ffmpeg failed: moov atom not found"
    )
    assert render_stored("no.such_code", {}, "old text", zh) == "old text"
    assert render_stored("processing.ffmpeg_failed", {"detail": "x"}, "old", zh) == "转码失败。"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"MAM_LOCALE": "zh_CN", "LANG": "en_US.UTF-8"}, "zh_CN"),
        ({"LANG": "zh_CN.UTF-8"}, "zh_CN.UTF-8"),
        ({"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en_GB.UTF-8"),
        ({}, ""),
    ],
)
def test_the_command_line_language_comes_from_mam_locale_then_posix(
    env: dict[str, str], expected: str
) -> None:
    assert cli_locale(env) == expected


@pytest.mark.parametrize(
    ("locale", "catalogue"),
    [("zh_CN", "zh_Hans_CN"), ("zh-CN", "zh_Hans_CN"), ("zh_CN.UTF-8", "zh_Hans_CN"),
     ("en_US.UTF-8", None), ("C", None), ("", None)],
)  # fmt: skip
def test_locale_names_map_to_the_catalogue(locale: str, catalogue: str | None) -> None:
    assert catalogue_locale(locale) == catalogue


def _domain_msgids() -> list[str]:
    """Every message the domain marks with N_ (mam/ and workers/), as pybabel extracts it."""
    from babel.messages.extract import extract_from_dir

    root = Path(__file__).resolve().parents[2]
    found = []
    for folder in ("mam", "workers"):
        for _file, _line, msgid, _comments, _context in extract_from_dir(
            str(root / folder), [("**.py", "python")], keywords={"N_": None}
        ):
            found.append(msgid if isinstance(msgid, str) else msgid[0])
    return sorted(set(found))


def test_every_domain_message_is_translated_with_or_without_a_code_of_its_own() -> None:
    """Messages raised with a bare template (they carry their kind's generic code) too."""
    zh = translator("zh_CN")
    msgids = _domain_msgids()
    assert len(msgids) >= len(all_messages())
    untranslated = [
        m
        for m in msgids
        if zh(m) == m and HAN.search(m) is None and re.search(r"[A-Za-z]", _no_params(m))
    ]
    assert untranslated == []


def _no_params(template: str) -> str:
    """Return ``template`` without its placeholders: what is left is what a person reads."""
    return re.sub(r"%\([a-z_]+\)[sd]", "", template)
