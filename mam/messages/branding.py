"""What station branding (logos) says."""

from __future__ import annotations

from mam.i18n import N_
from mam.messages import message

LOGO_NOT_PNG = message(
    "branding.logo_not_png", N_("%(file)s is not a PNG image; the logo must be a PNG.")
)
LOGO_NO_ALPHA = message(
    "branding.logo_no_alpha",
    N_("%(file)s has no transparency (alpha channel); save the logo as a PNG with alpha."),
)
LOGO_TOO_LARGE = message("branding.logo_too_large", N_("The logo file is larger than %(kb)s KB."))
LOGO_DIMENSIONS = message(
    "branding.logo_dimensions",
    N_("The logo is %(width)s×%(height)s pixels; it must be between 16 and %(max)s pixels a side."),
)
LOGO_RELEASE_FROZEN = message(
    "branding.logo_release_frozen",
    N_("The release set %(name)s is already published or withdrawn; its logo cannot be changed."),
)
