"""Mail notices (mam/services/notify.py): subject and first line, per kind."""

from __future__ import annotations

from mam.i18n import N_
from mam.messages import message

REVIEW_REQUESTED = message("notice.review_requested", N_("To review: %(title)s (%(detail)s)"))
REVIEW_REQUESTED_BODY = message(
    "notice.review_requested_body",
    N_("%(title)s waits for your review at the stage %(detail)s."),
)
CHANGES_REQUESTED = message("notice.changes_requested", N_("Changes requested: %(title)s"))
CHANGES_REQUESTED_BODY = message(
    "notice.changes_requested_body", N_("A reviewer asked for changes to %(title)s: %(detail)s")
)
FIXITY_FAILED = message("notice.fixity_failed", N_("Fixity check failed: %(title)s"))
FIXITY_FAILED_BODY = message(
    "notice.fixity_failed_body",
    N_("The stored object %(title)s failed its fixity check: %(detail)s"),
)
OPEN_LINK = message("notice.open_link", N_("Open: %(link)s"))
