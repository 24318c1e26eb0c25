"""The search page and the API say when counting stopped short of every hit."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from mam import search_query
from mam.runtime import Runtime
from tests.web.conftest import csrf_from
from tests.web.test_metadata import make_episode
from tests.web.test_upload import token_for


def total_line(html: str) -> str:
    found = re.search(r'data-testid="search-total">([^<]*)<', html)
    assert found is not None
    return found.group(1)


def test_a_capped_count_reads_more_than(
    client: FlaskClient,
    runtime: Runtime,
    login: Callable[[str], FlaskClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for n in range(3):
        make_episode(runtime, f"党课第{n}讲")
    login("reviewer")
    token = csrf_from(client.get("/").get_data(as_text=True))
    client.post("/language/en", data={"csrf_token": token, "next": "/"})
    assert total_line(client.get("/search?q=党课").get_data(as_text=True)) == "3 episodes found"
    monkeypatch.setattr(search_query, "COUNT_LIMIT", 2)
    html = client.get("/search?q=党课").get_data(as_text=True)
    assert total_line(html).startswith("More than 2 episodes found.")
    assert html.count('data-testid="search-hit"') == 3
    auth = {"Authorization": token_for(runtime, "reviewer")["Authorization"]}
    r = client.get("/api/v1/episodes?q=党课&per_page=1", headers=auth)
    assert (r.json["total"], r.json["total_exact"], len(r.json["episodes"])) == (2, False, 1)
