"""The OpenAPI 3.0 document of /api/v1 (served at /api/v1/openapi.json and as a docs page)."""

from __future__ import annotations

from typing import Any

from mam.models import SourceType, VersionState

_STR = {"type": "string"}
_INT = {"type": "integer"}
_NULL_STR = {"type": "string", "nullable": True}
_DATE = {"type": "string", "format": "date", "nullable": True}


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
    return {"name": name, "in": "path", "required": True, "schema": _INT}


METADATA_PROPS: dict[str, Any] = {
    "number": {"type": "integer", "nullable": True, "description": "Episode number"},
    "synopsis": _STR,
    "source": {
        "type": "string",
        "enum": [s.value for s in SourceType],
        "description": "self = 自制, imported = 引进, general = 省市通用教材",
    },
    "topics": {"type": "array", "items": _STR, "description": "Topic names from /topics"},
    "producer": _STR,
    "production_date": _DATE,
    "language": {"type": "string", "description": "Language or dialect"},
    "rights_holder": _STR,
    "rights_expiry": _DATE,
    "keywords": {"type": "array", "items": _STR},
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string", "description": "What went wrong, for people"},
            "status": _INT,
            "fields": {"type": "object", "additionalProperties": _STR},
        },
    },
    "Metadata": {"type": "object", "properties": METADATA_PROPS},
    "MetadataUpdate": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"title": _STR, **METADATA_PROPS},
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
            "filename": _STR,
            "length": {"type": "integer", "minimum": 1, "description": "File size in bytes"},
            "programme": {"type": "string", "description": "Required unless episode_id"},
            "title": {"type": "string", "description": "Required unless episode_id"},
            "episode_id": {"type": "integer", "description": "Upload a new cut of this episode"},
            "fingerprint": {
                "type": "string",
                "description": "Optional `size:sha256(first 4 MiB):sha256(last 4 MiB)`; "
                "a file whose fingerprint matches an original in the library is refused "
                "(409) before any byte is sent",
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


def document(server: str) -> dict[str, Any]:
    """Return the OpenAPI document; ``server`` is the base URL ("" for relative)."""
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
                    _query("q", "Words to search for", _STR),
                    _query("programme", "Programme id"),
                    _query("topic", "Topic id"),
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
                    _query("year", "Production year"),
                    _query("page", "Page, from 1"),
                    _query("per_page", "Episodes per page (1-100, default 20)"),
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
                "responses": {"200": _json({"type": "object"}, "Progress"), **errors},
            },
        },
        "/api/v1/jobs": {
            "get": {
                "summary": "Recent jobs",
                "operationId": "listJobs",
                "parameters": [_query("state", "Job state", _STR)],
                "responses": {"200": _json({"type": "object"}, "Jobs"), **errors},
            }
        },
    }
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
            "schemas": SCHEMAS,
        },
        "paths": paths,
    }
