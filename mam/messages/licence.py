"""What licences say: why an episode may not go somewhere, and the expiry notices."""

from __future__ import annotations

from mam.i18n import N_
from mam.messages import message

# Licence states (the catalogue facet and badges).
STATE_NAMES = {
    "valid": N_("Licence valid"),
    "expiring": N_("Licence expiring"),
    "expired": N_("Licence expired"),
    "pending": N_("Licence not yet in force"),
    "none": N_("No licence"),
}
# Uses by package kind, as a licence names them.
USE_NAMES = {
    "tv": N_("broadcast on TV"),
    "playback": N_("playback in villages"),
    "web": N_("online learning"),
}

# Why an episode may not be released (the reason of REFUSED).
NO_LICENCE = message(
    "licence.none",
    N_(
        "it is imported or general teaching material and has no licence yet; "
        "enter its licence on the episode page first"
    ),
)
NOT_STARTED = message("licence.not_started", N_("its licence starts on %(date)s"))
EXPIRED = message("licence.expired", N_("its licence ended on %(date)s"))
USE_EXCLUDED = message("licence.use_excluded", N_("its licence does not allow %(use)s"))
COUNTIES_EXCLUDED = message(
    "licence.counties_excluded", N_("its licence does not cover %(counties)s")
)
ALL_COUNTIES_EXCLUDED = message(
    "licence.all_counties_excluded",
    N_("its licence covers only some counties, not all counties"),
)
REFUSED = message("licence.refused", N_("《%(title)s》 cannot be released here: %(reason)s."))
NO_USES = message("licence.no_uses", N_("Choose at least one use."))
ENDS_BEFORE_START = message(
    "licence.ends_before_start", N_("A licence cannot end (%(end)s) before it starts (%(start)s).")
)
NO_COUNTIES = message("licence.no_counties", N_("Choose the licensed counties, or all counties."))
HOLDER_NEEDED = message("licence.holder_needed", N_("A licence needs its rights holder."))
MISSING = message("licence.missing", N_("《%(title)s》 has no licence of its own."))
WITHDRAWN_REASON = message(
    "licence.withdrawn_reason",
    N_("The licence of 《%(title)s》 ended on %(date)s; the set was withdrawn automatically."),
)
NO_LONGER_COVERED = message(
    "licence.no_longer_covered",
    N_(
        "《%(title)s》 is no longer covered by its licence (%(reason)s); the set was "
        "withdrawn automatically."
    ),
)
EXPIRING_SUBJECT = message("notice.licence_expiring", N_("Licence ending on %(date)s: %(title)s"))
EXPIRING_BODY = message(
    "notice.licence_expiring_body",
    N_(
        "The licence of %(title)s (%(holder)s) ends on %(date)s. Release sets that hold it "
        "will be withdrawn and online learning will stop the day after, unless the licence "
        "is renewed."
    ),
)
EXPIRED_SUBJECT = message("notice.licence_expired", N_("Licence ended: %(title)s"))
EXPIRED_BODY = message(
    "notice.licence_expired_body",
    N_(
        "The licence of %(title)s (%(holder)s) ended on %(date)s. It is no longer offered "
        "for online learning; release sets withdrawn: %(sets)s."
    ),
)
