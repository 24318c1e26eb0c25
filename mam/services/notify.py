"""Review notices by email, when an SMTP server is configured; otherwise nothing is sent."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlsplit

from mam.i18n import translator
from mam.messages import Message, licence, notices
from mam.models import User

log = logging.getLogger(__name__)

# kind -> (subject, first line), written in each recipient's language (zh_CN by default).
TEXTS: dict[str, tuple[Message, Message]] = {
    "review_requested": (notices.REVIEW_REQUESTED, notices.REVIEW_REQUESTED_BODY),
    "changes_requested": (notices.CHANGES_REQUESTED, notices.CHANGES_REQUESTED_BODY),
    "fixity_failed": (notices.FIXITY_FAILED, notices.FIXITY_FAILED_BODY),
    "licence_expiring": (licence.EXPIRING_SUBJECT, licence.EXPIRING_BODY),
    "licence_expired": (licence.EXPIRED_SUBJECT, licence.EXPIRED_BODY),
}
DEFAULT_LOCALE = "zh_CN"


@dataclass(frozen=True)
class Notice:
    """Something a user should hear about: a version to review, changes requested, a
    licence ending. ``link`` (a path of the site) overrides the version's review page;
    ``params`` fill the kind's texts beside ``title`` and ``detail``."""

    recipients: list[User]
    kind: str
    version_id: int
    title: str
    detail: str = ""
    link: str = field(default="")
    params: dict[str, str] = field(default_factory=dict)


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

    def message(self, notice: Notice, to: User) -> EmailMessage:
        """Build the mail for one recipient, in the recipient's language."""
        translate = translator(to.locale or DEFAULT_LOCALE)
        params = {**notice.params, "title": notice.title, "detail": notice.detail}
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to.email or ""
        link = f"{self.base_url}/review/versions/{notice.version_id}"
        if notice.kind == "fixity_failed":  # a stored object, not a version: the audit log
            link = f"{self.base_url}/admin/audit?action=fixity_failed"
        elif notice.link:
            link = f"{self.base_url}{notice.link}"
        texts = TEXTS.get(notice.kind)
        if texts is None:
            msg["Subject"] = notice.title
            msg.set_content(f"{notice.title}\n{notice.detail}\n\n{link}\n")
            return msg
        subject, first_line = texts
        msg["Subject"] = subject.render(params, translate)
        opening = notices.OPEN_LINK.render({"link": link}, translate)
        msg.set_content(f"{first_line.render(params, translate)}\n\n{opening}\n")
        return msg

    def send(self, notice: Notice) -> None:
        """Mail every recipient who has an address; log and swallow delivery errors."""
        recipients = [u for u in notice.recipients if u.email]
        if not recipients:
            return
        host, port = self.url.hostname or "localhost", self.url.port
        try:
            smtp_cls = smtplib.SMTP_SSL if self.url.scheme == "smtps" else smtplib.SMTP
            with smtp_cls(
                host, port or (465 if self.url.scheme == "smtps" else 25), timeout=10
            ) as smtp:
                if self.url.username:
                    smtp.login(unquote(self.url.username), unquote(self.url.password or ""))
                for user in recipients:
                    smtp.send_message(self.message(notice, user))
        except (OSError, smtplib.SMTPException):
            log.exception("could not mail notice %s for version %s", notice.kind, notice.version_id)


def make_notifier(smtp_url: str, sender: str, base_url: str = "") -> Notifier:
    """Return an SMTP notifier when ``smtp_url`` is set, else one that sends nothing."""
    return SmtpNotifier(smtp_url, sender, base_url) if smtp_url else NullNotifier()
