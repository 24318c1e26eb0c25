"""Domain errors. ``web`` maps them to HTTP status codes, the CLI to exit codes."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from mam.i18n import render


class MamError(Exception):
    """Base class of every error the domain raises on purpose."""

    http_status = 400
    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        params: Mapping[str, object] | None = None,
        **details: object,
    ) -> None:
        # ``message`` is an English template marked with ``mam.i18n.N_``; with ``params`` it
        # holds %(name)s placeholders. ``self.message`` is the English text (logs, old rows);
        # ``translated()`` gives it in the reader's language.
        self.template = message
        self.params: dict[str, object] = dict(params or {})
        self.message = message % self.params if self.params else message
        super().__init__(self.message)
        self.details = details

    def translated(self, translate: Callable[[str], str]) -> str:
        """Return the message in the language of ``translate`` (a gettext function)."""
        return render(self.template, self.params, translate)

    def __str__(self) -> str:
        return self.message


class NotFound(MamError):
    """The thing asked for does not exist (or the caller may not know it does)."""

    http_status = 404
    exit_code = 3


class NotAllowed(MamError):
    """The caller's role or the object's state does not allow this act."""

    http_status = 403
    exit_code = 4


class Conflict(MamError):
    """The request collides with existing data or a concurrent change."""

    http_status = 409
    exit_code = 5


class Superseded(Conflict):
    """A worker's run lost its lease: a newer attempt owns the job; this one may not publish."""


class InvalidMedia(MamError):
    """A file is not usable audio/video (unreadable, truncated, no streams)."""

    http_status = 422
    exit_code = 6


class InvalidInput(MamError):
    """Input fails validation (bad field, bad manifest line, bad header)."""

    http_status = 400
    exit_code = 2


class ProcessingError(MamError):
    """Processing a version failed; ``permanent`` says whether a retry can help."""

    http_status = 500
    exit_code = 7

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        params: Mapping[str, object] | None = None,
        **details: object,
    ) -> None:
        super().__init__(message, params=params, **details)
        self.permanent = permanent


class Unavailable(MamError):
    """Storage or the database failed under a valid request; trying again later may work."""

    http_status = 503
    exit_code = 8


class Duplicate(Conflict):
    """The file is already in the library; ``details`` name its ``version_id`` and
    ``episode_id``, and ``match`` says how it was recognised (``sha256`` or ``fingerprint``)."""
