"""The OpenAPI 3.0 document of /api/v1 (served at /api/v1/openapi.json and as a docs page)."""

from __future__ import annotations

import copy
import re
from typing import Any

from openapi_schema_validator import OAS30Validator

from mam.inputs import MAX_ID
from mam.models import JobState, SourceType, VersionState
from mam.search import MAX_PAGE, MAX_QUERY
from mam.services.metadata import MAX_KEYWORDS, MAX_SYNOPSIS, MAX_TITLE, TEXT_LIMITS
from mam.services.uploads import MEDIA_SUFFIXES
from web.openapi_releases import RELEASE_SCHEMAS, release_paths

_STR = {"type": "string"}
_INT = {"type": "integer"}
_ID = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID}
# What the input policy accepts (mam/inputs.py): no control characters; text fields with
# several lines keep tab and newline.
_LINE = "^[^\u0000-\u001f\u007f-\u009f]*$"
_LINES = "^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$"
_NOT_BLANK = r"[^\s]"  # at least one character that is not white space


def _text(max_length: int, *, lines: bool = False, **extra: Any) -> dict[str, Any]:
    return {
        "type": "string",
        "maxLength": max_length,
        "pattern": _LINES if lines else _LINE,
        **extra,
    }
_NULL_STR = {"type": "string", "nullable": True}
_DATE = {
    "type": "string",
    "format": "date",
    "nullable": True,
    "description": "YYYY-MM-DD; null clears it",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or _INT,
    }


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _ID}


METADATA_PROPS: dict[str, Any] = {
    "number": {
        "type": "integer",
        "nullable": True,
        "minimum": 1,
        "maximum": 99999,
        "description": "Episode number",
    },
    "synopsis": _text(MAX_SYNOPSIS, lines=True),
    "source": {
        "type": "string",
        "enum": [s.value for s in SourceType],
        "description": "self = 自制, imported = 引进, general = 省市通用教材",
    },
    "topics": {
        "type": "array",
        "items": _text(100),
        "description": "Topic names from /topics",
    },
    "producer": _text(TEXT_LIMITS["producer"]),
    "production_date": _DATE,
    "language": _text(TEXT_LIMITS["language"], description="Language or dialect"),
    "rights_holder": _text(TEXT_LIMITS["rights_holder"]),
    "rights_expiry": _DATE,
    "keywords": {"type": "array", "maxItems": MAX_KEYWORDS, "items": _text(50)},
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string", "description": "What went wrong, for people"},
            "status": _INT,
            "fields": {"type": "object", "additionalProperties": _STR},
            "allowed": {
                "type": "array",
                "items": _STR,
                "description": "The values a parameter may take, when it took another",
            },
        },
    },
    "Metadata": {"type": "object", "properties": METADATA_PROPS},
    "MetadataUpdate": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "title": _text(MAX_TITLE, minLength=1, pattern=f"^(?=\\s*{_NOT_BLANK}){_LINE[1:]}"),
            **METADATA_PROPS,
        },
    },
    "VersionRef": {
        "type": "object",
        "nullable": True,
        "properties": {
            "id": _INT,
            "number": _INT,
            "state": {"type": "string", "enum": [s.value for s in VersionState]},
        },
    },
    "EpisodeSummary": {
        "type": "object",
        "properties": {
            "id": _INT,
            "title": _STR,
            "number": {"type": "integer", "nullable": True},
            "programme": _STR,
            "source_type": _STR,
            "latest_version": _ref("VersionRef"),
            "url": _STR,
        },
    },
    "Facet": {
        "type": "object",
        "properties": {"value": {}, "label": _STR, "count": _INT},
    },
    "EpisodeList": {
        "type": "object",
        "properties": {
            "total": _INT,
            "total_exact": {
                "type": "boolean",
                "description": "false: counting stopped; there are more than `total` hits and "
                "the facet counts are those of the newest `total`",
            },
            "page": _INT,
            "per_page": _INT,
            "episodes": {"type": "array", "items": _ref("EpisodeSummary")},
            "facets": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": _ref("Facet")},
            },
        },
    },
    "Job": {"type": "object", "additionalProperties": True},
    "Version": {
        "type": "object",
        "description": "A version with its original, technical metadata, renditions and jobs",
        "properties": {
            "id": _INT,
            "number": _INT,
            "state": _STR,
            "failure_reason": _NULL_STR,
            "original": {"type": "object", "additionalProperties": True},
            "media_info": {"type": "object", "additionalProperties": True},
            "renditions": {"type": "array", "items": {"type": "object"}},
            "jobs": {"type": "array", "items": _ref("Job")},
        },
    },
    "Episode": {
        "allOf": [
            _ref("EpisodeSummary"),
            {
                "type": "object",
                "properties": {
                    "synopsis": _STR,
                    "metadata": _ref("Metadata"),
                    "versions": {"type": "array", "items": _ref("Version")},
                },
            },
        ]
    },
    "UploadRequest": {
        "type": "object",
        "required": ["filename", "length"],
        "properties": {
            "filename": _text(255),
            "length": {
                "type": "integer",
                "format": "int64",
                "minimum": 1,
                "maximum": MAX_ID,
                "description": "File size in bytes",
            },
            "programme": _text(200, description="Required unless episode_id"),
            "title": _text(MAX_TITLE, description="Required unless episode_id"),
            "episode_id": {**_ID, "description": "Upload a new cut of this episode"},
            "fingerprint": {
                "type": "string",
                "pattern": "^[1-9][0-9]{0,18}:[0-9a-fA-F]{64}:[0-9a-fA-F]{64}$",
                "description": "Optional `size:sha256(first 4 MiB):sha256(last 4 MiB)`; "
                "a file whose fingerprint matches an original in the library is refused "
                "(409) before any byte is sent; one of another size is ignored",
            },
            **METADATA_PROPS,
        },
    },
    "Upload": {
        "type": "object",
        "properties": {
            "id": _STR,
            "upload_url": {"type": "string", "description": "tus 1.0 upload URL: HEAD + PATCH"},
            "offset": _INT,
            "length": _INT,
            "expires_at": {"type": "string", "format": "date-time"},
        },
    },
}


def _media_filename() -> str:
    """Return a pattern of file names the upload accepts: a media suffix, any letter case."""
    suffixes = "|".join(
        "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in s[1:])
        for s in sorted(MEDIA_SUFFIXES)
    )
    name = r"[^\u0000-\u001f\u007f-\u009f/\\]"
    last = r"[^\u0000-\u0020\u007f-\u009f/\\.]"
    return f"^{name}*{last}\\.(?:{suffixes})$"


def _upload_request(topics: list[str], max_upload: int) -> dict[str, Any]:
    """Return the body of POST /uploads: a new episode (programme + title) or a new cut."""
    schema = copy.deepcopy(SCHEMAS["UploadRequest"])
    schema["properties"]["length"]["maximum"] = max_upload
    schema["properties"]["filename"] = _text(255, pattern=_media_filename())
    schema["properties"]["topics"]["items"] = {"type": "string", "enum": topics}
    named = {"minLength": 1, "pattern": _NOT_BLANK}
    schema["anyOf"] = [
        {"required": ["programme", "title"], "properties": {"programme": named, "title": named}},
        {"required": ["episode_id"]},
    ]
    return schema


def document(
    server: str, *, topics: list[str] | None = None, max_upload: int = MAX_ID
) -> dict[str, Any]:
    """Return the OpenAPI document; ``server`` is the base URL ("" for relative).

    ``topics`` (the active topic names) and ``max_upload`` (bytes) make the document say
    exactly what this installation accepts.
    """
    schemas = copy.deepcopy(SCHEMAS)
    if topics:
        schemas["MetadataUpdate"]["properties"]["topics"]["items"] = {
            "type": "string",
            "enum": topics,
        }
        schemas["UploadRequest"] = _upload_request(topics, max_upload)
    episode_id = _path_id("episode_id")
    version_id = _path_id("version_id")
    errors = {
        "401": _error("No session and no valid API token"),
        "403": _error("Your role may not do this"),
    }
    paths: dict[str, Any] = {
        "/api/v1/episodes": {
            "get": {
                "summary": "List or search episodes",
                "description": "Chinese full text over title, synopsis, keywords and "
                "programme (two-character words such as 党建 work), with facets.",
                "operationId": "listEpisodes",
                "parameters": [
                    _query("q", "Words to search for", _text(MAX_QUERY)),
                    _query("programme", "Programme id", _ID),
                    _query("topic", "Topic id", _ID),
                    _query(
                        "source",
                        "Source type",
                        {"type": "string", "enum": [s.value for s in SourceType]},
                    ),
                    _query(
                        "state",
                        "State of the newest version",
                        {"type": "string", "enum": [s.value for s in VersionState]},
                    ),
                    _query("year", "Production year", {**_INT, "minimum": 1, "maximum": 9999}),
                    _query("page", "Page, from 1", {**_INT, "minimum": 1, "maximum": MAX_PAGE}),
                    _query(
                        "per_page",
                        "Episodes per page (default 20)",
                        {**_INT, "minimum": 1, "maximum": 100},
                    ),
                ],
                "responses": {
                    "200": _json(_ref("EpisodeList"), "A page of episodes"),
                    "400": _error("A parameter is malformed"),
                    **errors,
                },
            }
        },
        "/api/v1/episodes/{episode_id}": {
            "parameters": [episode_id],
            "get": {
                "summary": "Get an episode with its versions, renditions and jobs",
                "operationId": "getEpisode",
                "responses": {
                    "200": _json(_ref("Episode"), "The episode"),
                    "404": _error("No such episode"),
                    **errors,
                },
            },
            "patch": {
                "summary": "Update an episode's metadata (only the fields sent change)",
                "operationId": "updateEpisode",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("MetadataUpdate")}},
                },
                "responses": {
                    "200": _json(_ref("Episode"), "The updated episode"),
                    "400": _error("Invalid fields (each named in `fields`)"),
                    "404": _error("No such episode"),
                    **errors,
                },
            },
        },
        "/api/v1/uploads": {
            "post": {
                "summary": "Start a resumable upload (then PATCH the bytes with tus 1.0)",
                "operationId": "startUpload",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("UploadRequest")}},
                },
                "responses": {
                    "201": _json(_ref("Upload"), "The upload was opened"),
                    "400": _error("Missing or invalid fields"),
                    "404": _error("No such episode (episode_id)"),
                    "409": _error("The fingerprint matches a file already in the library"),
                    "413": _error("Larger than the maximum upload size"),
                    "422": _error("Not a video or audio file"),
                    **errors,
                },
            }
        },
        "/api/v1/topics": {
            "get": {
                "summary": "List the topic taxonomy",
                "operationId": "listTopics",
                "responses": {"200": _json({"type": "object"}, "Topics"), **errors},
            }
        },
        "/api/v1/versions/{version_id}": {
            "parameters": [version_id],
            "get": {
                "summary": "Get a version with technical metadata, renditions and jobs",
                "operationId": "getVersion",
                "responses": {
                    "200": _json(_ref("Version"), "The version"),
                    "404": _error("No such version"),
                    **errors,
                },
            },
        },
        "/api/v1/versions/{version_id}/progress": {
            "parameters": [version_id],
            "get": {
                "summary": "A version's state, its newest job's progress and all its jobs",
                "operationId": "getProgress",
                "responses": {
                    "200": _json({"type": "object"}, "Progress"),
                    "404": _error("No such version"),
                    **errors,
                },
            },
        },
        "/api/v1/jobs": {
            "get": {
                "summary": "Recent jobs",
                "operationId": "listJobs",
                "parameters": [
                    _query("state", "Job state", {"type": "string", "enum": [*map(str, JobState)]})
                ],
                "responses": {
                    "200": _json({"type": "object"}, "Jobs"),
                    "400": _error("Unknown state (the allowed values are listed)"),
                    **errors,
                },
            }
        },
    }
    paths.update(release_paths(errors, _error))
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Educational Film Library API",
            "version": "1.0.0",
            "description": "Send `Authorization: Bearer <token>` (create tokens on the "
            "account page). Errors are JSON objects with an `error` message. Uploads use "
            "the tus 1.0 resumable-upload protocol on `upload_url`.",
        },
        "servers": [{"url": server or "/"}],
        "security": [{"bearerAuth": []}],
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas | RELEASE_SCHEMAS,
        },
        "paths": paths,
    }


# Structural problems a request body is refused for here; patterns and lengths are left to
# the input policy (mam/inputs.py), which refuses the same things with translated messages.
# Unknown fields are named by the views themselves (translated).
_STRUCTURE = frozenset({"type", "required", "enum", "minimum", "maximum", "maxItems", "format"})


def body_problems(schema_name: str, data: Any) -> dict[str, str]:
    """Return, by field, how ``data`` does not fit the schema ``schema_name`` (types etc.)."""
    root = {**SCHEMAS[schema_name], "components": {"schemas": SCHEMAS}}
    problems: dict[str, str] = {}
    validator = OAS30Validator(root, format_checker=OAS30Validator.FORMAT_CHECKER)
    for error in validator.iter_errors(data):
        if error.validator in _STRUCTURE:
            where = ".".join(str(p) for p in error.absolute_path) or "body"
            problems.setdefault(where, error.message[:200])
    return problems
