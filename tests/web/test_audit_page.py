"""The audit log as a Chinese-speaking administrator reads it: every act in words, objects by
name, states and filters in Chinese; the CSV in Chinese (English with ?lang=en)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient

from mam.runtime import Runtime
from tests.web.audit_fixtures import Filled, fill_audit_log

SNAKE_CASE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")


class _Text(HTMLParser):
    """Collect the text a person sees (not attributes, scripts or styles)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


@pytest.fixture
def filled(runtime: Runtime, app: object) -> Filled:
    return fill_audit_log(runtime)


@pytest.fixture
def admin(login: Callable[[str], FlaskClient]) -> FlaskClient:
    client = login("admin")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"
    return client


def test_every_act_reads_as_a_chinese_sentence(admin: FlaskClient, filled: Filled) -> None:
    text = visible_text(admin.get("/admin/audit").get_data(as_text=True))
    for sentence in [
        "张编导 送审了《乡村振兴 第1集》第2版",
        "李发布 发布了供片批次“2026年第12期”",
        "李发布 发布了《时代风采 示范片》第1版",
        "李发布 新建了供片批次“2026年第12期”",
        "李发布 选定了供片批次“2026年第12期”的目标县",
        "李发布 重新生成了供片批次“2026年第12期”的村级放映数据包",
        "赵县管 确认收到了供片批次“2026年第12期”",
        "赵县管 上报了供片批次“2026年第12期”的一场放映",
        "admin-显示名 登录",
        "admin-显示名 修改了李发布的角色",
        "系统 为张编导创建了账号",
        "系统 添加了甲县",
        "admin-显示名 添加了主题“乡村振兴战略”",
        "admin-显示名 重命名了主题“乡村振兴战略”",
        # rows written before the enumeration keep reading as sentences
        "admin-显示名 保存了栏目《乡村振兴》",
        "admin-显示名 修改了用户 9999（已删除）的角色",
        "张编导 要求修改《乡村振兴 第1集》第2版",
    ]:
        assert sentence in text, sentence
    assert "待送审" in text and "审片中" in text and "退回修改" in text  # states by name
    assert SNAKE_CASE.findall(text) == []
    assert "user 1" not in text and "county 1" not in text


def test_the_filters_are_in_chinese_and_filter(admin: FlaskClient, filled: Filled) -> None:
    html = admin.get("/admin/audit?action=screening_reported").get_data(as_text=True)
    text = visible_text(html)
    assert "赵县管 上报了供片批次“2026年第12期”的一场放映" in text
    assert "送审了" not in text
    for label in ["所有操作", "所有对象", "所有人", "上报放映", "供片批次", "张编导"]:
        assert label in text, label
    assert SNAKE_CASE.findall(text) == []
    by_type = visible_text(admin.get("/admin/audit?object_type=topic").get_data(as_text=True))
    assert "主题“乡村振兴战略”" in by_type and "供片批次“2026年第12期”" not in by_type
    by_actor = visible_text(admin.get("/admin/audit?actor=clerk").get_data(as_text=True))
    assert "赵县管" in by_actor and "李发布 发布了" not in by_actor


def _csv(client: FlaskClient, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    text = response.get_data(as_text=True)
    response.close()
    assert response.mimetype == "text/csv" and text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_the_csv_speaks_chinese_and_english_on_request(admin: FlaskClient, filled: Filled) -> None:
    rows = _csv(admin, "/admin/audit.csv?object_type=version")
    assert list(rows[0]) == [
        "编号", "时间", "操作人", "用户名", "操作", "说明", "对象类型", "对象编号",
        "原状态", "新状态", "理由", "详情",
    ]  # fmt: skip
    submitted = next(r for r in rows if r["操作"] == "已送审")
    assert submitted["说明"] == "张编导 送审了《乡村振兴 第1集》第2版"
    assert (submitted["操作人"], submitted["用户名"]) == ("张编导", "zhang")
    assert (submitted["对象类型"], submitted["原状态"], submitted["新状态"]) == (
        "版本", "待送审", "审片中"
    )  # fmt: skip
    sent_back = next(r for r in rows if r["操作"] == "退回修改")
    assert sent_back["理由"].startswith("'=")  # no formula in a spreadsheet
    english = _csv(admin, "/admin/audit.csv?object_type=version&lang=en")
    assert list(english[0])[:6] == ["Id", "When", "Who", "Username", "What", "Description"]
    submitted = next(r for r in english if r["What"] == "Submitted for review")
    assert submitted["Description"] == "张编导 submitted 《乡村振兴 第1集》 version 2 for review"
    assert (submitted["From"], submitted["To"]) == ("Ready", "In review")
