"""Learner accounts from a spreadsheet (CSV in UTF-8, BOM or GBK; XLSX), with a dry-run
check that names every problem by line, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.errors import Conflict, InvalidInput, NotAllowed
from mam.models import AuditEvent, Role, User
from mam.models.learning import Learner
from mam.services.learners import LearnerService, read_sheet
from mam.services.users import UserService, parse_roles
from tests import factories
from tests.mam.learning_world import xlsx_bytes


@pytest.fixture
def staff(db_session: Session) -> User:
    county = UserService(db_session).ensure_county("c1", "甲县")
    UserService(db_session).ensure_county("c2", "乙县")
    user = factories.user(db_session, Role.COUNTY, username="staff1")
    user.county_id = county.id
    db_session.flush()
    return user


SHEET = "姓名,手机号,初始密码\n王一,13800000001,\n李二,13800000002,长长的初始密码一二三\n"


def test_the_sheet_is_read_from_csv_in_every_encoding_and_from_xlsx() -> None:
    expected = [(2, "王一", "13800000001", ""), (3, "李二", "13800000002", "长长的初始密码一二三")]
    for data, name in (
        (SHEET.encode("utf-8"), "a.csv"),
        (b"\xef\xbb\xbf" + SHEET.encode("utf-8"), "a.csv"),
        (SHEET.encode("gbk"), "a.csv"),
        # Excel keeps an unformatted phone number as a number.
        (xlsx_bytes([["姓名", "手机号", "初始密码"], ["王一", 13800000001, None],
               ["李二", "13800000002", "长长的初始密码一二三"], [None, None, None]]), "a.xlsx"),
    ):  # fmt: skip
        rows = read_sheet(data, name)
        assert [(r.line, r.name, r.phone, r.password) for r in rows] == expected, name


def test_a_sheet_without_the_columns_or_not_a_workbook_is_refused() -> None:
    with pytest.raises(InvalidInput, match="姓名 and 手机号"):
        read_sheet("名字,电话\n王一,13800000001\n".encode(), "a.csv")
    with pytest.raises(InvalidInput, match="not an XLSX"):
        read_sheet(b"PK\x03\x04 not really a zip", "a.xlsx")
    with pytest.raises(InvalidInput, match="empty"):
        read_sheet(b"", "a.csv")


def test_the_dry_run_names_every_problem_by_line(db_session: Session, staff: User) -> None:
    service = LearnerService(db_session)
    service.create(staff.county_id or 0, "已有", "13900000000", None, staff)
    text = (
        "姓名,手机号,初始密码\n"
        "王一,13800000001,\n"  # fine
        ",13800000002,\n"  # no name
        "张三,1380000,\n"  # not a mobile number
        "李四,13800000001,\n"  # twice in the sheet
        "赵五,13900000000,\n"  # an account exists
        "钱六,13800000006,short\n"  # password too short
    )
    rows = service.check(read_sheet(text.encode(), "a.csv"))
    problems = {r.line: [t % p if p else t for t, p in r.problems] for r in rows}
    assert problems == {
        2: [],
        3: ["Give a name of 1 to 100 characters."],
        4: ["1380000 is not an 11-digit mobile number."],
        5: ["The phone number is on line 2 too."],
        6: ["An account with phone number 13900000000 exists already."],
        7: ["The initial password must have 10 to 256 characters."],
    }
    with pytest.raises(InvalidInput, match="5 lines have problems"):
        service.import_rows(staff.county_id or 0, rows, staff)
    assert db_session.scalars(select(Learner.phone)).all() == ["13900000000"]


def test_import_creates_learners_generated_passwords_must_be_changed(
    db_session: Session, staff: User
) -> None:
    service = LearnerService(db_session)
    created = service.import_rows(staff.county_id or 0, read_sheet(SHEET.encode(), "a.csv"), staff)
    db_session.commit()
    assert [(c.line, c.learner.phone, c.password is not None) for c in created] == [
        (2, "13800000001", True),
        (3, "13800000002", False),
    ]
    users = UserService(db_session)
    first = users.authenticate("13800000001", created[0].password or "")
    second = users.authenticate("13800000002", "长长的初始密码一二三")
    assert first is not None and second is not None
    assert first.roles == {Role.LEARNER} and first.county_id == staff.county_id
    assert (first.must_change_password, second.must_change_password) == (True, False)
    assert first.display_name == "王一"
    actions = db_session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.action.like("learner%"))  # the fixture's county is audited too
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["learner_created", "learner_created", "learners_imported"]


def test_only_the_countys_staff_create_its_learners(db_session: Session, staff: User) -> None:
    service = LearnerService(db_session)
    producer = factories.user(db_session, Role.PRODUCER)
    with pytest.raises(NotAllowed):
        service.create(staff.county_id or 0, "王一", "13800000001", None, producer)
    c2 = UserService(db_session).ensure_county("c2", "乙县")
    with pytest.raises(NotAllowed):
        service.create(c2.id, "王一", "13800000001", None, staff)
    service.create(staff.county_id or 0, "王一", "13800000001", None, staff)
    with pytest.raises(Conflict):
        service.create(staff.county_id or 0, "王一", "13800000001", None, staff)
    db_session.rollback()  # the service did not commit: nothing is left
    assert db_session.scalars(select(Learner)).all() == []


def test_a_learner_holds_no_other_role(db_session: Session, staff: User) -> None:
    made = LearnerService(db_session).create(
        staff.county_id or 0, "王一", "13800000001", None, staff
    )
    users = UserService(db_session)
    for roles in ({Role.PRODUCER}, {Role.LEARNER, Role.ADMIN}):
        with pytest.raises(InvalidInput, match="cannot hold another role"):
            users.set_roles(made.learner.user, roles)
    with pytest.raises(InvalidInput, match="cannot hold another role"):
        users.create("mixed", "long password 9", [Role.LEARNER, Role.REVIEWER], county_code="c1")
    with pytest.raises(InvalidInput, match="county staff"):
        parse_roles(["producer", "learner"])
    assert made.learner.user.roles == {Role.LEARNER}
