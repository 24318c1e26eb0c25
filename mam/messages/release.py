"""What release sets, packages and county distribution say."""

from __future__ import annotations

from mam.i18n import N_
from mam.messages import message

# The packages by name (translated where shown, as a mam.i18n.Label parameter).
KIND_NAMES = {
    "tv": N_("TV broadcast"),
    "playback": N_("Village playback"),
    "web": N_("Online learning (HLS)"),
}

PACKAGE_MISSING = message("release.package_missing", N_("Package %(id)s does not exist."))
NOT_PUBLISHED = message(
    "release.not_published", N_("The release set %(name)s is not published.")
)
PUBLISHED_IMMUTABLE = message(
    "release.published_immutable",
    N_("The release set %(name)s is already published or withdrawn; it cannot be changed."),
)
NO_RENDITION = message(
    "release.no_rendition",
    N_(
        "《%(title)s》 version %(number)s has no %(profile)s rendition; reprocess it "
        "before packaging."
    ),
)
LADDER_PENDING = message(
    "release.ladder_pending",
    N_(
        "《%(title)s》 version %(number)s cannot be released yet: its distribution renditions "
        "are not finished (%(state)s)."
    ),
)
ONLY_APPROVED = message(
    "release.only_approved",
    N_("Only approved versions can be released; version %(number)s of %(title)s is not approved."),
)
ITEM_MISSING = message(
    "release.item_missing", N_("Item %(item)s is not in the release set %(name)s.")
)
COUNTIES_UNKNOWN = message("release.counties_unknown", N_("Unknown counties: %(ids)s."))
NO_EPISODES = message("release.no_episodes", N_("A release set needs at least one episode."))
NO_TARGETS = message(
    "release.no_targets", N_("Choose the target counties (or all counties) first.")
)
NO_LONGER_APPROVED = message(
    "release.no_longer_approved",
    N_(
        "《%(title)s》 version %(number)s is no longer approved; its approval was voided or "
        "superseded. Remove it or pin the newly approved version."
    ),
)
PACKAGE_READY = message(
    "release.package_ready", N_("The %(kind)s package of %(name)s is already ready.")
)
PUBLISHERS_ONLY = message("release.publishers_only", N_("Only publishers may do this."))
COUNTY_FIGURES = message(
    "county.figures_range",
    N_("Villages and playback points must be between 0 and 100,000."),
)
SET_MISSING = message("release.set_missing", N_("Release set %(id)s does not exist."))
WITHDRAWN = message(
    "county.set_withdrawn", N_("Release set %(name)s was withdrawn: %(reason)s")
)
PACKAGE_NOT_READY = message(
    "county.package_not_ready", N_("The %(kind)s package of %(name)s is not ready yet.")
)
SET_NOT_OPEN = message(
    "county.set_not_published", N_("Release set %(name)s is not published (any more).")
)
PLACE_REQUIRED = message(
    "county.place_required", N_("Name the township or place (at most 200 characters).")
)
VIEWERS_RANGE = message(
    "county.viewers_range", N_("The number of viewers must be between 0 and 1,000,000.")
)
SCREENING_FUTURE = message(
    "county.screening_future", N_("A screening cannot be reported before it happens.")
)
