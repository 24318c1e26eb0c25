"""Domain errors. ``web`` maps them to HTTP status codes, the CLI to exit codes."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from mam.i18n import render
from mam.messages import Message


class MamError(Exception):
    """Base class of every error the domain raises on purpose."""

    http_status = 400
    exit_code = 1
    # The code of errors raised with a bare template instead of a registered Message.
    generic_code = "error.failed"

    def __init__(
        self,
        message: Message | str,
        *,
        params: Mapping[str, object] | None = None,
        detail: str | None = None,
        **details: object,
    ) -> None:
        # ``message`` is a registered Message (mam.messages: a stable code and an English
        # template) or, for older call sites, a bare template marked with ``mam.i18n.N_``.
        # With ``params`` the template holds %(name)s placeholders. ``self.message`` is the
        # English text (logs); ``translated()`` gives it in the reader's language.
        # ``detail`` is a technical detail (a tool's own words), shown apart, untranslated.
        if isinstance(message, Message):
            self.said = message
        else:
            self.said = Message(self.generic_code, message)
        self.code, self.template = self.said.code, self.said.template
        self.params: dict[str, object] = dict(params or {})
        self.detail = detail
        self.message = render(self.template, self.params, str)
        if detail:
            self.message = f"{self.message} ({detail})"
        super().__init__(self.message)
        self.details = details

    def translated(self, translate: Callable[[str], str]) -> str:
        """Return the message in the language of ``translate`` (a gettext function)."""
        return render(self.template, self.params, translate)

    def __str__(self) -> str:
        return self.message


class NotFound(MamError):
    """The thing asked for does not exist (or the caller may not know it does)."""

    generic_code = "error.not_found"

    http_status = 404
    exit_code = 3


class NotAllowed(MamError):
    """The caller's role or the object's state does not allow this act."""

    generic_code = "error.not_allowed"

    http_status = 403
    exit_code = 4


class Conflict(MamError):
    """The request collides with existing data or a concurrent change."""

    generic_code = "error.conflict"

    http_status = 409
    exit_code = 5


class Superseded(Conflict):
    """A worker's run lost its lease: a newer attempt owns the job; this one may not publish."""


class InvalidMedia(MamError):
    """A file is not usable audio/video (unreadable, truncated, no streams)."""

    generic_code = "error.invalid_media"

    http_status = 422
    exit_code = 6


class InvalidInput(MamError):
    """Input fails validation (bad field, bad manifest line, bad header)."""

    generic_code = "error.invalid_input"

    http_status = 400
    exit_code = 2


class ProcessingError(MamError):
    """Processing a version failed; ``permanent`` says whether a retry can help."""

    generic_code = "error.processing"

    http_status = 500
    exit_code = 7

    def __init__(
        self,
        message: Message | str,
        *,
        permanent: bool,
        params: Mapping[str, object] | None = None,
        detail: str | None = None,
        **details: object,
    ) -> None:
        super().__init__(message, params=params, detail=detail, **details)
        self.permanent = permanent


class Unavailable(MamError):
    """Storage or the database failed under a valid request; trying again later may work."""

    generic_code = "error.unavailable"

    http_status = 503
    exit_code = 8


class Duplicate(Conflict):
    """The file is already in the library; ``details`` name its ``version_id`` and
    ``episode_id``, and ``match`` says how it was recognised (``sha256`` or ``fingerprint``)."""
