"""What review, comments and the review chain say."""

from __future__ import annotations

from mam.i18n import N_
from mam.messages import message

TOO_LONG = message(
    "review.too_long", N_("The text is too long (at most %(limit)d characters).")
)
TWO_STAGES = message(
    "review.two_stages",
    N_(
        "You have already signed a stage of this version; another reviewer must sign "
        "the next stage."
    ),
)
SHA256 = message("review.sha256", N_("The file you reviewed is not this version's file."))
QC_BLOCKS = message(
    "review.qc_blocks",
    N_("QC found problems; a reviewer must waive them with a reason first: %(findings)s"),
)
WAIVER_REASON = message("review.waiver_reason", N_("Waiving QC findings needs a reason."))
NOTHING_TO_WAIVE = message("review.nothing_to_waive", N_("QC found nothing to waive."))
WAIVED = message("review.waived", N_("The QC findings are already waived."))
REVIEWERS_ONLY = message("review.reviewers_only", N_("Only reviewers may do this."))
STALE = message(
    "review.stale",
    N_("Someone else acted on this version meanwhile; reload the page and try again."),
)
RACE = message(
    "review.race",
    N_(
        "Someone else acted on this version at the same moment; reload the page to see "
        "what happened."
    ),
)
NOT_IN_REVIEW = message(
    "review.not_in_review", N_("Version %(id)s is not in review.")
)
MOVED_STAGE = message(
    "review.moved_stage", N_("This version is now at the stage %(stage)s; reload the page.")
)
STAGE_GRANT = message("review.stage_grant", N_("You may not sign the stage %(stage)s."))
SUPERSEDED = message(
    "review.superseded",
    N_(
        "Version %(number)s has been superseded by version %(newer)s of this episode; "
        "review the newest version."
    ),
)
STAGE_MISSING = message(
    "review.stage_missing", N_("There is no review stage %(stage)s; the chain is: %(known)s.")
)
CHAIN_EMPTY = message(
    "review.chain_empty", N_("The review chain needs at least one stage, each named once.")
)
NOT_REVIEWER = message(
    "review.not_reviewer", N_("%(user)s is not a reviewer; grant the role first.")
)
TIMECODE_FORMAT = message(
    "comments.timecode_format", N_("The timecode %(timecode)s is not HH:MM:SS:FF.")
)
TIMECODE_RANGE = message(
    "comments.timecode_range", N_("The timecode %(timecode)s is out of range.")
)
EMPTY = message("comments.empty", N_("The comment is empty."))
COMMENT_TOO_LONG = message(
    "comments.too_long",
    N_("The comment is longer than %(limit)s characters (%(length)s)."),
)
OTHER_VERSION = message("comments.other_version", N_("The reply belongs to another version."))
NEEDS_POINT = message("comments.needs_point", N_("A comment needs a point in the film."))
RANGE = message("comments.range", N_("The range ends before it starts."))
AFTER_END = message("comments.after_end", N_("The timecode is after the end of the film."))
WHOLE_THREAD = message(
    "comments.whole_thread", N_("Only a whole thread is resolved or reopened.")
)
COMMENT_MISSING = message("comments.missing", N_("Comment %(id)s does not exist."))
WHO_COMMENTS = message(
    "comments.role", N_("Only reviewers, producers and administrators may comment.")
)
