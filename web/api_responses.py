"""The typed shapes of what /api/v1 answers, written into the OpenAPI document by apispec.

The request side is :mod:`web.api_schemas`; these describe the JSON the views build
(``episode_summary``, ``version_dict``, ``release_summary``, ``package_dict`` …).
"""

from __future__ import annotations

from marshmallow import EXCLUDE, INCLUDE, Schema, fields

from mam.models import VersionState
from mam.models.release import PackageKind, PackageState, ReleaseState
from web.api_fields import Choice
from web.api_schemas import Metadata

Str, Integer, Bool = fields.String, fields.Integer, fields.Boolean


class Answer(Schema):
    """An answer's shape: further keys may appear (the document does not forbid them)."""

    class Meta:
        unknown = EXCLUDE


def _nested(schema: type[Schema], **kwargs: object) -> fields.Nested:
    return fields.Nested(schema, **kwargs)  # type: ignore[arg-type]


def _many(schema: type[Schema], **kwargs: object) -> fields.List:
    return fields.List(fields.Nested(schema), **kwargs)  # type: ignore[arg-type]


class Error(Answer):
    error = Str(required=True, metadata={"description": "What went wrong, for people"})
    code = Str(metadata={"description": "A stable dotted message code"})
    params = fields.Dict(metadata={"description": "The message's parameters"})
    message = Str(metadata={"description": "The message in the request's language"})
    status = Integer()
    fields_ = fields.Dict(keys=Str(), values=Str(), data_key="fields")
    allowed = fields.List(
        Str(), metadata={"description": "The values a parameter may take, when it took another"}
    )


class VersionRef(Answer):
    id = Integer()
    number = Integer()
    state = Choice(VersionState)


class EpisodeSummary(Answer):
    id = Integer()
    title = Str()
    number = Integer(allow_none=True)
    programme = Str()
    source_type = Str()
    latest_version = _nested(VersionRef, allow_none=True)
    url = Str()


class Facet(Answer):
    value = fields.Raw()
    label = Str()
    count = Integer()


class EpisodeList(Answer):
    total = Integer()
    total_exact = Bool(
        metadata={
            "description": "false: counting stopped; there are more than `total` hits and "
            "the facet counts are those of the newest `total`"
        }
    )
    page = Integer()
    per_page = Integer()
    episodes = _many(EpisodeSummary)
    facets = fields.Dict(keys=Str(), values=_many(Facet))


class Job(Answer):
    class Meta:
        unknown = INCLUDE


class Version(Answer):
    """A version with its original, technical metadata, renditions and jobs."""

    id = Integer()
    number = Integer()
    state = Str()
    failure_reason = Str(allow_none=True)
    original = fields.Dict()
    media_info = fields.Dict()
    renditions = fields.List(fields.Dict())
    jobs = _many(Job)


class Episode(EpisodeSummary):
    synopsis = Str()
    metadata = _nested(Metadata)
    versions = _many(Version)


class Upload(Answer):
    id = Str()
    upload_url = Str(metadata={"description": "tus 1.0 upload URL: HEAD + PATCH"})
    offset = Integer()
    length = Integer()
    expires_at = fields.DateTime()


class Package(Answer):
    id = Integer()
    kind = Choice(PackageKind)
    county = Str(
        allow_none=True,
        metadata={
            "description": "Code of the county this package was made for (its TV package "
            "with its own logo); null: shared by the counties without a package of their own"
        },
    )
    state = Choice(PackageState)
    size = Integer(allow_none=True, metadata={"description": "Bytes"})
    sha256 = Str(allow_none=True)
    url = Str(
        metadata={
            "description": "Download URL: GET with the same Bearer token; resumable "
            "with Range and If-Range (the ETag is the quoted SHA-256), e.g. "
            "`curl -C - -O -J -H 'Authorization: Bearer …' URL`"
        }
    )
    release_id = Integer()


class PinnedVersion(Answer):
    id = Integer()
    number = Integer()
    sha256 = Str()


class ReleaseEpisode(Answer):
    position = Integer()
    episode_id = Integer()
    title = Str()
    number = Integer(allow_none=True)
    programme = Str()
    synopsis = Str()
    version = _nested(PinnedVersion)
    duration = fields.Float(allow_none=True, metadata={"description": "Seconds"})
    poster_url = Str(allow_none=True)


class ReleaseSummary(Answer):
    id = Integer()
    name = Str()
    state = Choice(ReleaseState)
    notes = Str()
    published_at = fields.DateTime(allow_none=True)
    withdrawn_reason = Str(allow_none=True)
    episodes = Integer(metadata={"description": "Number of episodes"})
    packages = _many(Package)
    receipt_confirmed = Bool(
        metadata={"description": "County accounts: whether your county confirmed receipt"}
    )
    url = Str()


class CountyRef(Answer):
    id = Integer()
    code = Str()
    name = Str()


class Release(ReleaseSummary):
    episodes = _many(ReleaseEpisode)  # type: ignore[assignment]
    counties = _many(
        CountyRef, metadata={"description": "Publishers and admins: the target counties"}
    )


class Receipt(Answer):
    release_id = Integer()
    county_id = Integer()
    confirmed_at = fields.DateTime()


# The components of the document, by name (the answers' $refs use these names).
RESPONSES: tuple[type[Schema], ...] = (
    Error,
    VersionRef,
    EpisodeSummary,
    Facet,
    EpisodeList,
    Job,
    Version,
    Episode,
    Upload,
    Package,
    PinnedVersion,
    ReleaseEpisode,
    ReleaseSummary,
    CountyRef,
    Release,
    Receipt,
)
