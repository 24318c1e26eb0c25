"""The data model. Core tables live in ``core``; each area adds a module and imports it here."""

from __future__ import annotations

# Area modules register their tables on Base.metadata when imported (one line each):
from mam.models import assessment as _assessment  # noqa: F401
from mam.models import auth as _auth  # noqa: F401
from mam.models import catalogue as _catalogue  # noqa: F401
from mam.models import fixity as _fixity  # noqa: F401
from mam.models import learning as _learning  # noqa: F401
from mam.models import licence as _licence  # noqa: F401
from mam.models import network as _network  # noqa: F401
from mam.models import outbox as _outbox  # noqa: F401
from mam.models import processing as _processing  # noqa: F401
from mam.models import release as _release  # noqa: F401
from mam.models import review as _review  # noqa: F401
from mam.models.core import (
    NAMING,
    Asset,
    AuditEvent,
    Base,
    County,
    Episode,
    Job,
    JobKind,
    JobState,
    Programme,
    Rendition,
    Role,
    SourceType,
    User,
    UserRole,
    UTCDateTime,
    Version,
    VersionState,
    utcnow,
)

__all__ = [
    "NAMING",
    "Asset",
    "AuditEvent",
    "Base",
    "County",
    "Episode",
    "Job",
    "JobKind",
    "JobState",
    "Programme",
    "Rendition",
    "Role",
    "SourceType",
    "UTCDateTime",
    "User",
    "UserRole",
    "Version",
    "VersionState",
    "utcnow",
]
