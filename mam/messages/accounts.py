"""What user accounts say."""

from __future__ import annotations

from mam.i18n import N_
from mam.messages import message

ROLE_UNKNOWN = message(
    "accounts.role_unknown", N_("Unknown role %(role)s; the roles are: %(valid)s.")
)
ROLE_SYSTEM = message(
    "accounts.role_system", N_("The system role belongs to the workers and cannot be granted.")
)
USERNAME_FORMAT = message(
    "accounts.username_format",
    N_("A username has 2-64 letters, digits, “.”, “_” or “-”."),
)
PASSWORD_SHORT = message(
    "accounts.password_short", N_("The password must have at least %(n)d characters.")
)
USER_EXISTS = message("accounts.user_exists", N_("The user %(user)s already exists."))
COUNTY_MISSING = message("accounts.county_missing", N_("The county %(county)s does not exist."))
COUNTY_REQUIRED = message(
    "accounts.county_required", N_("A county account must be bound to a county.")
)
LEARNER_ALONE = message(
    "accounts.learner_alone", N_("A learner account cannot hold another role.")
)
ROLE_LEARNER = message(
    "accounts.role_learner",
    N_("Learner accounts are made by county staff on the learners page."),
)
TOWNSHIP_REQUIRED = message(
    "accounts.township_required",
    N_(
        "A township account must be bound to a township; county staff create it on the "
        "township's page."
    ),
)
