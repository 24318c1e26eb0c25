"""Review notices by email, when an SMTP server is configured; otherwise nothing is sent."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlsplit

from mam.models import User

log = logging.getLogger(__name__)

SUBJECTS = {
    "review_requested": "待审：{title}（{detail}）/ To review: {title} ({detail})",
    "changes_requested": "需修改：{title} / Changes requested: {title}",
    "fixity_failed": "存储校验失败：{title} / Fixity check failed: {title}",
}


@dataclass(frozen=True)
class Notice:
    """Something a user should hear about: a version to review, changes requested."""

    recipients: list[User]
    kind: str
    version_id: int
    title: str
    detail: str = ""
    link: str = field(default="")


class Notifier(Protocol):
    def send(self, notice: Notice) -> None:
        """Deliver ``notice`` to its recipients (never raises)."""


class NullNotifier:
    """Send nothing (no SMTP configured); the inbox still shows everything."""

    def send(self, notice: Notice) -> None:
        """Drop the notice."""


class SmtpNotifier:
    """Send plain-text mail through ``smtp://user:password@host:port`` (``smtps://`` for TLS)."""

    def __init__(self, url: str, sender: str, base_url: str = "") -> None:
        self.url = urlsplit(url)
        self.sender = sender
        self.base_url = base_url.rstrip("/")

    def message(self, notice: Notice, to: str) -> EmailMessage:
        """Build the mail for one recipient."""
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = SUBJECTS.get(notice.kind, "{title}").format(
            title=notice.title, detail=notice.detail
        )
        link = f"{self.base_url}/review/versions/{notice.version_id}"
        if notice.kind == "fixity_failed":  # a stored object, not a version: the audit log
            link = f"{self.base_url}/admin/audit?action=fixity_failed"
        msg.set_content(f"{notice.title}\n{notice.detail}\n\n{link}\n")
        return msg

    def send(self, notice: Notice) -> None:
        """Mail every recipient who has an address; log and swallow delivery errors."""
        addresses = [u.email for u in notice.recipients if u.email]
        if not addresses:
            return
        host, port = self.url.hostname or "localhost", self.url.port
        try:
            smtp_cls = smtplib.SMTP_SSL if self.url.scheme == "smtps" else smtplib.SMTP
            with smtp_cls(
                host, port or (465 if self.url.scheme == "smtps" else 25), timeout=10
            ) as smtp:
                if self.url.username:
                    smtp.login(unquote(self.url.username), unquote(self.url.password or ""))
                for address in addresses:
                    smtp.send_message(self.message(notice, address))
        except (OSError, smtplib.SMTPException):
            log.exception("could not mail notice %s for version %s", notice.kind, notice.version_id)


def make_notifier(smtp_url: str, sender: str, base_url: str = "") -> Notifier:
    """Return an SMTP notifier when ``smtp_url`` is set, else one that sends nothing."""
    return SmtpNotifier(smtp_url, sender, base_url) if smtp_url else NullNotifier()
