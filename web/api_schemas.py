"""The typed request schemas of /api/v1: the views load requests with them, and
:mod:`web.openapi` writes them into the OpenAPI document (apispec's MarshmallowPlugin).

Every bound comes from the domain's own constants (``mam.inputs.MAX_ID``, the metadata and
search limits) through the typed fields of :mod:`web.api_fields`, so what the document says
and what the API refuses cannot drift apart. :func:`load` turns what a schema refuses into
the API's error shape (a translated message code with parameters, each field in ``fields``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any, ClassVar

from marshmallow import INCLUDE, RAISE, Schema, ValidationError, fields, validate

from mam.errors import InvalidInput, MamError
from mam.i18n import N_
from mam.inputs import MAX_ID
from mam.messages import catalogue
from mam.models import JobState, SourceType, VersionState
from mam.models.release import ReleaseState
from mam.search_query import MAX_PAGE, MAX_QUERY
from mam.services.metadata import MAX_KEYWORDS, MAX_SYNOPSIS, MAX_TITLE, TEXT_LIMITS
from mam.services.uploads import MEDIA_SUFFIXES
from web.api_fields import LINE, NOT_BLANK, Choice, Int, Text

NAMED = {"minLength": 1, "pattern": NOT_BLANK}
FINGERPRINT = "^[1-9][0-9]{0,18}:[0-9a-fA-F]{64}:[0-9a-fA-F]{64}$"


def Id(**kwargs: Any) -> Int:
    """Return the field of a row id (a database integer)."""
    return Int(1, MAX_ID, **kwargs)


class Metadata(Schema):
    """An episode's descriptive metadata (every field optional)."""

    class Meta:
        unknown = INCLUDE

    number = Int(1, 99999, allow_none=True, metadata={"description": "Episode number"})
    synopsis = Text(MAX_SYNOPSIS, lines=True)
    source = Choice(
        SourceType, metadata={"description": "self = 自制, imported = 引进, general = 省市通用教材"}
    )
    topics = fields.List(Text(100), metadata={"description": "Topic names from /topics"})
    producer = Text(TEXT_LIMITS["producer"])
    production_date = fields.Date(
        allow_none=True, metadata={"description": "YYYY-MM-DD; null clears it"}
    )
    language = Text(TEXT_LIMITS["language"], metadata={"description": "Language or dialect"})
    rights_holder = Text(TEXT_LIMITS["rights_holder"])
    rights_expiry = fields.Date(
        allow_none=True, metadata={"description": "YYYY-MM-DD; null clears it"}
    )
    keywords = fields.List(Text(50), validate=validate.Length(max=MAX_KEYWORDS))


class MetadataUpdate(Metadata):
    """PATCH /episodes/{id}: the fields sent change, the others stay."""

    class Meta:
        unknown = RAISE

    title = Text(MAX_TITLE, required_text=True)


class UploadRequest(Metadata):
    """POST /uploads: a new episode (programme + title) or a new cut (episode_id)."""

    class Meta:
        unknown = INCLUDE  # further tus metadata (filetype …) is passed on

    filename = Text(255, required=True)
    length = Int(1, MAX_ID, required=True, metadata={"description": "File size in bytes"})
    programme = Text(200, metadata={"description": "Required unless episode_id"})
    title = Text(MAX_TITLE, metadata={"description": "Required unless episode_id"})
    episode_id = Id(metadata={"description": "Upload a new cut of this episode"})
    fingerprint = fields.String(
        validate=validate.Regexp(FINGERPRINT),
        metadata={
            "description": "Optional `size:sha256(first 4 MiB):sha256(last 4 MiB)`; "
            "a file whose fingerprint matches an original in the library is refused "
            "(409) before any byte is sent; one of another size is ignored",
        },
    )
    # The document states the rule the upload service keeps (clean_target).
    ONE_OF: ClassVar[list[dict[str, Any]]] = [
        {"required": ["programme", "title"], "properties": {"programme": NAMED, "title": NAMED}},
        {"required": ["episode_id"]},
    ]


@cache
def upload_request(max_upload: int) -> type[UploadRequest]:
    """Return the upload body of a site whose largest upload is ``max_upload`` bytes."""
    length = Int(1, max_upload, required=True, metadata={"description": "File size in bytes"})
    filename = Text(255, required=True, pattern=media_filename())
    return type("UploadRequest", (UploadRequest,), {"length": length, "filename": filename})


def media_filename() -> str:
    """Return a pattern of file names the upload accepts: a media suffix, any letter case.

    The upload service refuses other names (422, "not a video or audio file").
    """
    suffixes = "|".join(
        "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in s[1:])
        for s in sorted(MEDIA_SUFFIXES)
    )
    name = r"[^\u0000-\u001f\u007f-\u009f/\\]"
    last = r"[^\u0000-\u0020\u007f-\u009f/\\.]"
    return f"^{name}*{last}\\.(?:{suffixes})$"


class EpisodeQuery(Schema):
    """GET /episodes: words and filters."""

    class Meta:
        unknown = RAISE

    q = Text(MAX_QUERY, metadata={"description": "Words to search for"})
    programme = Id(digits=True, metadata={"description": "Programme id"})
    topic = Id(digits=True, metadata={"description": "Topic id"})
    source = Choice(SourceType, metadata={"description": "Source type"})
    state = Choice(VersionState, metadata={"description": "State of the newest version"})
    year = Int(1, 9999, digits=True, metadata={"description": "Production year"})
    page = Int(1, MAX_PAGE, digits=True, metadata={"description": "Page, from 1"})
    per_page = Int(1, 100, digits=True, metadata={"description": "Episodes per page (default 20)"})


class JobQuery(Schema):
    """GET /jobs."""

    class Meta:
        unknown = RAISE

    state = Choice(JobState, metadata={"description": "Job state"})


class ReleaseQuery(Schema):
    """GET /releases (other parameters are ignored)."""

    class Meta:
        unknown = INCLUDE

    state = Choice(ReleaseState, metadata={"description": "Release set state"})


def load(schema: Schema, data: Mapping[str, Any], *, what: str = "field") -> dict[str, Any]:
    """Return ``data`` loaded by ``schema``, or raise the API's refusal (InvalidInput).

    Unknown names are refused first, by name (a query lists the names it takes); refusals
    of the input policy keep their codes and are listed per field; type errors say how the
    request does not match the API description.
    """
    known = {f.data_key or n for n, f in schema.load_fields.items()}
    unknown = sorted(set(data) - known)
    if unknown and schema.unknown == RAISE:
        if what == "parameter":
            raise InvalidInput(
                N_("unknown parameter(s): %(names)s; this URL takes %(allowed)s"),
                params={"names": ", ".join(unknown), "allowed": ", ".join(sorted(known))},
                allowed=sorted(known),
            )
        raise InvalidInput(
            N_("unknown field(s): %(fields)s"), params={"fields": ", ".join(unknown)}
        )
    try:
        loaded: dict[str, Any] = schema.load({k: v for k, v in data.items() if k in known})
    except ValidationError as exc:
        raise _refusal(exc.normalized_messages()) from None
    return loaded


def _refusal(errors: Mapping[str, Any]) -> InvalidInput:
    found: dict[str, list[Any]] = {}
    for name, said in errors.items():
        items = said if isinstance(said, list) else [said]
        found[name] = [m for m in items if not isinstance(m, dict)] or [str(said)]
    policy = {n: m[0] for n, m in found.items() if isinstance(m[0], MamError)}
    if len(policy) == len(found):  # every field refused by the input policy: translated
        if len(policy) == 1:
            only = next(iter(policy.values()))
            refusal = InvalidInput(only.said, params=only.params, detail=only.detail)
            refusal.details = {**only.details, "errors": {n: str(e) for n, e in policy.items()}}
            return refusal
        return InvalidInput(
            catalogue.FIELDS_INVALID,
            params={
                "problems": [
                    {"code": e.code, "template": e.template, "params": e.params}
                    for e in policy.values()
                ]
            },
            errors={n: str(e) for n, e in policy.items()},
        )
    problems = {n: str(m[0])[:200] for n, m in found.items()}
    return InvalidInput(
        N_("the request does not match the API description: %(problems)s"),
        params={"problems": "; ".join(f"{k}: {v}" for k, v in problems.items())},
        errors=problems,
    )


__all__ = ["LINE", "load", "upload_request"]
