"""Codes of errors raised with a bare template (the code says only the kind of refusal)."""

from __future__ import annotations

from mam.i18n import N_
from mam.messages import message

FAILED = message("error.failed", N_("The request could not be carried out."))
NOT_FOUND = message("error.not_found", N_("Not found."))
NOT_ALLOWED = message("error.not_allowed", N_("You do not have permission to do this."))
CONFLICT = message("error.conflict", N_("This collides with a change made meanwhile."))
INVALID_MEDIA = message("error.invalid_media", N_("The file is not usable audio or video."))
INVALID_INPUT = message("error.invalid_input", N_("Some of what was sent is not valid."))
PROCESSING = message("error.processing", N_("Processing failed."))
UNAVAILABLE = message(
    "error.unavailable", N_("The service is unavailable for a moment; try again later.")
)
