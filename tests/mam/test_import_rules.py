"""The manifest check is one rule per problem: each finding has its line, code and parameters."""

from __future__ import annotations

from pathlib import Path

from mam.i18n import translator
from mam.runtime import Runtime
from mam.services.import_rules import RULES
from mam.services.importer import Importer
from tests.mam.test_import import HEADER, batch, library  # noqa: F401 - fixtures

ROWS = [
    "党建 第1集.mp4,时代风采,党建 第1集,1,自制,党的建设,2024-05-01,党建,",  # line 2: fine
    "缺失.mp4,时代风采,缺失的片子,,,,,,",  # 3
    "党建 第1集.mp4,时代风采,重复,,,,,,",  # 4
    "sub/果树.mp4,不存在的栏目,果树,,引进,农业技术,2024-13-01,,",  # 5
    "sub/果树.mp4,科技之光,党建 第1集,,外星,,,,没有.srt",  # 6
    ",时代风采,党建 第1集,,,,,,",  # 7
    "../外面.mp4,时代风采,外面,,,,,,",  # 8
    "说明.pdf,时代风采,说明当片,,,,,,",  # 9
]


def test_every_rule_reports_its_problem_by_code_line_and_parameters(
    library: Runtime,  # noqa: F811 - the fixture
    batch: Path,  # noqa: F811
) -> None:
    (batch / "说明.pdf").write_bytes(b"%PDF-1.4\n")
    manifest = batch / "清单.csv"
    manifest.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    with library.db.session() as s:
        plan = Importer(s, library.storage).plan(batch, manifest)
    found = [(p.line, p.said.code, dict(p.params)) for p in plan.findings]
    assert found == [
        (3, "import.file_missing", {"file": "缺失.mp4"}),
        (4, "import.file_twice", {"file": "党建 第1集.mp4", "other": 2}),
        (5, "catalogue.date_invalid", {"field": "production date", "value": "2024-13-01"}),
        (5, "import.programme_unknown", {"programme": "不存在的栏目"}),
        (6, "catalogue.source_invalid", {"value": "外星"}),
        (6, "import.file_twice", {"file": "sub/果树.mp4", "other": 5}),
        (6, "import.subtitle_missing", {"file": "没有.srt"}),
        (7, "import.empty_cell", {"column": "file"}),
        (7, "import.title_twice", {"programme": "时代风采", "title": "党建 第1集", "other": 2}),
        (8, "import.outside", {"file": "../外面.mp4", "folder": str(batch)}),
        (9, "upload.not_media", {"file": "说明.pdf", "kind": "application/pdf"}),
    ]
    assert plan.problems[:2] == [
        "line 3: file 缺失.mp4 does not exist",
        "line 4: file 党建 第1集.mp4 is also on line 2",
    ]
    assert plan.bad_lines() == {3, 4, 5, 6, 7, 8, 9}
    zh = translator("zh_CN")
    assert plan.findings[1].said.render(plan.findings[1].params, zh) == (
        "文件 党建 第1集.mp4 也出现在第 2 行"
    )
    assert [r.__name__ for r in RULES] == [
        "known_columns",
        "required_cells",
        "metadata_cells",
        "names",
        "programme_exists",
        "uploader_may",
        "title_once",
        "media_file",
        "subtitle_file",
    ]
