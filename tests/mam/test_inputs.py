"""The input policy (mam.inputs) and the output helpers (mam.exports)."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import bagit
import pytest

from mam import inputs
from mam.errors import InvalidInput
from mam.exports import csv_row, csv_text, tag_value, xml_document
from mam.i18n import render
from mam.models import JobState
from mam.pbcore import episode_document


@pytest.mark.parametrize("bad", ["a\x00b", "a\x1bb", "a\x85b", "a\ud800b", "a\nb"])
def test_text_with_control_characters_or_lone_surrogates_is_refused(bad: str) -> None:
    with pytest.raises(InvalidInput) as err:
        inputs.clean_text(bad, "title", 300)
    assert err.value.details["field"] == "title"
    assert "control characters" in err.value.message


def test_text_is_normalised_trimmed_and_bounded() -> None:
    assert inputs.clean_text("  cafe\u0301 \n", "title", 300) == "café"
    assert inputs.clean_text("第一段\r\n\t第二段", "synopsis", 50, multiline=True) == (
        "第一段\n\t第二段"
    )
    with pytest.raises(InvalidInput, match="must not be empty"):
        inputs.clean_text("   ", "title", 300)
    assert inputs.optional_text(None, "notes", 10) == ""
    with pytest.raises(InvalidInput, match="longer than 3"):
        inputs.clean_text("四个汉字", "name", 3)


@pytest.mark.parametrize("raw", ["²", "١٢", "１２", "12.0", "-1", "1e3", "", " ", "0x10"])
def test_numbers_are_ascii_digits(raw: str) -> None:
    with pytest.raises(InvalidInput):
        inputs.parse_int(raw, "page", minimum=1)


def test_numbers_are_bounded_without_converting_huge_ones() -> None:
    assert inputs.parse_int(" 42 ", "page") == 42
    assert inputs.parse_id(str(2**63 - 1), "id") == 2**63 - 1
    for raw in (str(2**63), str(2**70), "9" * 5000):
        with pytest.raises(InvalidInput, match="between 1 and"):
            inputs.parse_id(raw, "id")
    assert inputs.optional_int("", "year") is None
    assert inputs.lenient_id("²") is None and inputs.ids(["3", "²", "3", "x", "7"]) == [3, 7]


def test_unknown_choice_lists_the_allowed_values() -> None:
    assert inputs.parse_choice("running", "state", JobState) is JobState.RUNNING
    with pytest.raises(InvalidInput) as err:
        inputs.parse_choice("bogus", "state", JobState)
    assert err.value.details["allowed"] == [
        "queued", "running", "succeeded", "skipped", "failed", "waiting"
    ]
    assert "queued, running, succeeded, skipped, failed" in err.value.message


def test_field_names_are_translated_with_the_message() -> None:
    try:
        inputs.clean_text("", "title", 300)
    except InvalidInput as exc:
        zh = {"%(field)s must not be empty": "%(field)s不能为空", "title": "标题"}
        assert render(exc.template, exc.params, lambda s: zh.get(s, s)) == "标题不能为空"
        assert exc.message == "title must not be empty"


def test_well_formed_json_values() -> None:
    assert inputs.well_formed({"a": ["😀", 1, None]})
    assert not inputs.well_formed({"a": ["\ud800"]})
    assert not inputs.well_formed({"\udc00": 1})


def test_csv_cells_never_start_a_formula() -> None:
    text = csv_text(["name", "n"], [["=1+2", -3], ["+cmd", 4], ["@SUM(A1)", 5], ["-x", 6]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1:] == [["'=1+2", "-3"], ["'+cmd", "4"], ["'@SUM(A1)", "5"], ["'-x", "6"]]
    assert csv_row(["\tx", "安全"]) == "'\tx,安全\r\n"


def test_xml_documents_stay_well_formed() -> None:
    root = ET.Element("feed", xmlns="http://www.w3.org/2005/Atom")
    ET.SubElement(root, "title", note="a\x01b").text = "坏\x00名 <b>&"
    parsed = ET.fromstring(xml_document(root))
    title = parsed.find("{http://www.w3.org/2005/Atom}title")
    assert title is not None and title.text == "坏\ufffd名 <b>&" and title.get("note") == "a\ufffdb"


def test_pbcore_record_with_control_characters_parses() -> None:
    xml = episode_document(
        identifier="release-1/version-1",
        organization="电教中心",
        series="时代\x00风采",
        episode="第\x0b1集",
        description="讲\x1f农业",
        rights="版权",
        sha256="0" * 64,
        files=[],
    )
    doc = ET.fromstring(xml)
    ns = {"p": "http://www.pbcore.org/PBCore/PBCoreNamespace.html"}
    titles = [t.text for t in doc.findall("p:pbcoreTitle", ns)]
    assert titles == ["时代\ufffd风采", "第\ufffd1集"]


def test_bag_info_values_are_single_lines(tmp_path: Path) -> None:
    info = {"External-Description": tag_value("2026年\x00第1期\r\nEvil-Tag: x tv")}
    assert info["External-Description"] == "2026年 第1期 Evil-Tag: x tv"
    (tmp_path / "a.txt").write_text("x")
    bag = bagit.make_bag(str(tmp_path), info, checksums=["sha256"])
    bag.validate()
    reread = bagit.Bag(str(tmp_path))
    assert reread.info["External-Description"] == info["External-Description"]
    assert "Evil-Tag" not in reread.info
