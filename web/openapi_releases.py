"""The release-set part of the OpenAPI document: sets, episodes, packages, receipts."""

from __future__ import annotations

from typing import Any

from mam.models.release import PackageKind, PackageState, ReleaseState

_STR = {"type": "string"}
_INT = {"type": "integer"}
_NULL_STR = {"type": "string", "nullable": True}
_TIME = {"type": "string", "format": "date-time", "nullable": True}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _INT}


RELEASE_SCHEMAS: dict[str, Any] = {
    "Package": {
        "type": "object",
        "properties": {
            "id": _INT,
            "kind": {"type": "string", "enum": [k.value for k in PackageKind]},
            "state": {"type": "string", "enum": [s.value for s in PackageState]},
            "size": {"type": "integer", "nullable": True, "description": "Bytes"},
            "sha256": _NULL_STR,
            "url": {
                "type": "string",
                "description": "Download URL: GET with the same Bearer token; resumable "
                "with Range and If-Range (the ETag is the quoted SHA-256), e.g. "
                "`curl -C - -O -J -H 'Authorization: Bearer …' URL`",
            },
            "release_id": _INT,
        },
    },
    "ReleaseEpisode": {
        "type": "object",
        "properties": {
            "position": _INT,
            "episode_id": _INT,
            "title": _STR,
            "number": {"type": "integer", "nullable": True},
            "programme": _STR,
            "synopsis": _STR,
            "version": {
                "type": "object",
                "properties": {"id": _INT, "number": _INT, "sha256": _STR},
            },
            "duration": {"type": "number", "nullable": True, "description": "Seconds"},
            "poster_url": _NULL_STR,
        },
    },
    "ReleaseSummary": {
        "type": "object",
        "properties": {
            "id": _INT,
            "name": _STR,
            "state": {"type": "string", "enum": [s.value for s in ReleaseState]},
            "notes": _STR,
            "published_at": _TIME,
            "withdrawn_reason": _NULL_STR,
            "episodes": {"type": "integer", "description": "Number of episodes"},
            "packages": {"type": "array", "items": _ref("Package")},
            "receipt_confirmed": {
                "type": "boolean",
                "description": "County accounts: whether your county confirmed receipt",
            },
            "url": _STR,
        },
    },
    "Release": {
        "allOf": [
            _ref("ReleaseSummary"),
            {
                "type": "object",
                "properties": {
                    "episodes": {"type": "array", "items": _ref("ReleaseEpisode")},
                    "counties": {
                        "type": "array",
                        "description": "Publishers and admins: the target counties",
                        "items": {
                            "type": "object",
                            "properties": {"id": _INT, "code": _STR, "name": _STR},
                        },
                    },
                },
            },
        ]
    },
    "Receipt": {
        "type": "object",
        "properties": {
            "release_id": _INT,
            "county_id": _INT,
            "confirmed_at": {"type": "string", "format": "date-time"},
        },
    },
}

_SCOPES_NOTE = (
    " Tokens with the `county:download` scope may call this as well as `api` tokens. "
    "County accounts see only the sets sent to their county."
)


def release_paths(errors: dict[str, Any], error: Any) -> dict[str, Any]:
    """Return the path items of the release endpoints."""
    release_id = _path_id("release_id")
    not_found = {"404": error("No such release set (or not sent to your county)")}
    return {
        "/api/v1/releases": {
            "get": {
                "summary": "List release sets, newest first",
                "description": "Published and withdrawn sets (and drafts for publishers)."
                + _SCOPES_NOTE,
                "operationId": "listReleases",
                "parameters": [
                    {
                        "name": "state",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": [s.value for s in ReleaseState]},
                    }
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "releases": {"type": "array", "items": _ref("ReleaseSummary")}
                            },
                        },
                        "The release sets",
                    ),
                    "400": error("Unknown state"),
                    **errors,
                },
            }
        },
        "/api/v1/releases/{release_id}": {
            "parameters": [release_id],
            "get": {
                "summary": "Get a release set with its episodes and packages",
                "description": _SCOPES_NOTE.strip(),
                "operationId": "getRelease",
                "responses": {
                    "200": _json(_ref("Release"), "The release set"),
                    **not_found,
                    **errors,
                },
            },
        },
        "/api/v1/releases/{release_id}/packages": {
            "parameters": [release_id],
            "get": {
                "summary": "List a release set's packages (state, size, SHA-256, URL)",
                "operationId": "listReleasePackages",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"packages": {"type": "array", "items": _ref("Package")}},
                        },
                        "The packages",
                    ),
                    **not_found,
                    **errors,
                },
            },
        },
        "/api/v1/packages/{package_id}": {
            "parameters": [_path_id("package_id")],
            "get": {
                "summary": "Get one package",
                "operationId": "getPackage",
                "responses": {
                    "200": _json(_ref("Package"), "The package"),
                    "404": error("No such package"),
                    **errors,
                },
            },
        },
        "/api/v1/releases/{release_id}/receipt": {
            "parameters": [release_id],
            "post": {
                "summary": "Confirm that your county received the release set",
                "description": "County accounts only; repeating it changes nothing.",
                "operationId": "confirmReceipt",
                "responses": {
                    "201": _json(_ref("Receipt"), "Receipt recorded"),
                    "200": _json(_ref("Receipt"), "Receipt was already recorded"),
                    "403": error("The set was withdrawn, or your role may not confirm"),
                    **not_found,
                    "401": errors["401"],
                },
            },
        },
    }
