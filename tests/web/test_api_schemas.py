"""One typed schema states each limit of /api/v1: the document shows it, the API keeps it.

Each limit is read from the served OpenAPI document, compared with the number this site
is meant to have (written out here), then sent exactly at the limit (accepted) and one
past it (refused with the API's error shape). A limit changed in one place therefore
changes both the document and what is refused.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask.testing import FlaskClient
from marshmallow import Schema

from mam.config import Settings
from mam.errors import InvalidInput
from mam.runtime import Runtime
from tests.web.test_metadata import make_episode
from tests.web.test_upload import token_for
from web import api_schemas
from web.api_fields import Int, Text, field_properties

MAX_UPLOAD = 7_000  # bytes: this test's site


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, max_upload_size=MAX_UPLOAD)


@pytest.fixture
def auth(runtime: Runtime, client: FlaskClient) -> dict[str, str]:
    return {"Authorization": token_for(runtime, "producer")["Authorization"]}


def _spec(client: FlaskClient, auth: dict[str, str]) -> dict[str, Any]:
    spec: dict[str, Any] = client.get("/api/v1/openapi.json", headers=auth).json
    return spec


def test_the_title_limit_in_the_document_is_where_the_api_refuses(
    client: FlaskClient, runtime: Runtime, auth: dict[str, str]
) -> None:
    episode_id = make_episode(runtime, "田间课堂")
    title = _spec(client, auth)["components"]["schemas"]["MetadataUpdate"]["properties"]["title"]
    assert (title["maxLength"], title["minLength"]) == (300, 1)
    url = f"/api/v1/episodes/{episode_id}"
    at_limit = "题" * title["maxLength"]
    r = client.patch(url, json={"title": at_limit}, headers=auth)
    assert r.status_code == 200, r.json
    assert r.json["title"] == at_limit
    r = client.patch(url, json={"title": at_limit + "目"}, headers=auth)
    assert r.status_code == 400
    assert set(r.json["fields"]) == {"title"} and "300" in r.json["error"]
    assert r.json["code"] == "error.invalid_input" and r.json["params"]["limit"] == 300
    r = client.patch(url, json={"title": "   "}, headers=auth)  # minLength + pattern: not blank
    assert r.status_code == 400 and set(r.json["fields"]) == {"title"}
    assert client.get(url, headers=auth).json["title"] == at_limit  # nothing half-changed


def test_the_sites_upload_limit_is_in_the_document_and_kept(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    length = _spec(client, auth)["components"]["schemas"]["UploadRequest"]["properties"]["length"]
    assert (length["minimum"], length["maximum"]) == (1, MAX_UPLOAD)
    body = {"filename": "a.mp4", "programme": "时代风采", "title": "接口"}
    r = client.post("/api/v1/uploads", json={**body, "length": MAX_UPLOAD + 1}, headers=auth)
    assert r.status_code == 400 and set(r.json["fields"]) == {"length"}
    assert r.json["params"] == {"field": "length", "minimum": 1, "maximum": MAX_UPLOAD}
    r = client.post("/api/v1/uploads", json={**body, "length": "12"}, headers=auth)
    assert r.status_code == 400 and set(r.json["fields"]) == {"length"}  # a string: wrong type
    r = client.post("/api/v1/uploads", json={**body, "length": MAX_UPLOAD}, headers=auth)
    assert r.status_code == 201, r.json
    assert r.json["length"] == MAX_UPLOAD


@pytest.mark.parametrize(
    ("name", "minimum", "maximum"),
    [("per_page", 1, 100), ("page", 1, 10_000), ("year", 1, 9999), ("programme", 1, 2**63 - 1)],
)
def test_query_bounds_in_the_document_are_the_ones_refused(
    client: FlaskClient, auth: dict[str, str], name: str, minimum: int, maximum: int
) -> None:
    params = _spec(client, auth)["paths"]["/api/v1/episodes"]["get"]["parameters"]
    schema = next(p["schema"] for p in params if p["name"] == name)
    assert (schema["minimum"], schema["maximum"]) == (minimum, maximum)
    for value, status in [(maximum, 200), (maximum + 1, 400), (minimum - 1, 400)]:
        r = client.get(f"/api/v1/episodes?{name}={value}", headers=auth)
        assert r.status_code == status, (name, value, r.json)
    r = client.get("/api/v1/episodes?colour=red", headers=auth)
    assert r.status_code == 400 and "colour" in r.json["error"] and "per_page" in r.json["allowed"]


def test_a_changed_field_changes_validation_and_document_alike() -> None:
    """A schema made with other bounds: the generated property and the refusal move together."""

    class Narrow(Schema):
        name = Text(5)
        count = Int(2, 4)

    plugin = MarshmallowPlugin()
    spec = APISpec("t", "1", "3.0.3", plugins=[plugin])
    plugin.converter.add_attribute_function(field_properties)  # type: ignore[union-attr]
    spec.components.schema("Narrow", schema=Narrow)
    props = spec.to_dict()["components"]["schemas"]["Narrow"]["properties"]
    assert props["name"]["maxLength"] == 5
    assert (props["count"]["minimum"], props["count"]["maximum"]) == (2, 4)
    assert api_schemas.load(Narrow(), {"name": "甲乙丙丁戊", "count": 4}) == {
        "name": "甲乙丙丁戊",
        "count": 4,
    }
    with pytest.raises(InvalidInput) as refused:
        api_schemas.load(Narrow(), {"name": "甲乙丙丁戊己", "count": 5})
    assert set(refused.value.details["errors"]) == {"name", "count"}  # type: ignore[arg-type]
