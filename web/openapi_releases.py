"""The release-set paths of the OpenAPI document (their shapes: :mod:`web.api_responses`)."""

from __future__ import annotations

from typing import Any

from mam.inputs import MAX_ID
from web.api_schemas import ReleaseQuery

_ID = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _ID}


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
                "parameters": [{"in": "query", "schema": ReleaseQuery}],
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
