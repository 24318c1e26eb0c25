"""Review notices are written in each recipient's language (Chinese unless they chose English)."""

from __future__ import annotations

from mam.models import User
from mam.services.notify import Notice, SmtpNotifier


def _user(locale: str | None) -> User:
    return User(username="zhang", display_name="张编导", password_hash="x", locale=locale,
                email="zhang@example.org")  # fmt: skip


def test_a_notice_speaks_the_recipients_language() -> None:
    notifier = SmtpNotifier("smtp://localhost:25", "mam@example.org", "https://mam.example")
    notice = Notice(recipients=[], kind="changes_requested", version_id=7,
                    title="乡村振兴 第1集 v2", detail="02:10 处字幕错别字")  # fmt: skip
    chinese = notifier.message(notice, _user(None))
    assert chinese["Subject"] == "需修改：乡村振兴 第1集 v2"
    assert chinese.get_content() == (
        "审片人员要求修改 乡村振兴 第1集 v2：02:10 处字幕错别字\n\n"
        "打开：https://mam.example/review/versions/7\n"
    )
    english = notifier.message(notice, _user("en"))
    assert english["Subject"] == "Changes requested: 乡村振兴 第1集 v2"
    assert english.get_content().startswith("A reviewer asked for changes to 乡村振兴 第1集 v2:")
    review = Notice(recipients=[], kind="review_requested", version_id=7,
                    title="乡村振兴 第1集 v2", detail="初审")  # fmt: skip
    assert notifier.message(review, _user("zh_CN"))["Subject"] == "待审：乡村振兴 第1集 v2（初审）"
