"""The JSON API against its own OpenAPI document: every operation, every schemathesis check.

schemathesis generates requests from ``/api/v1/openapi.json`` (valid and invalid ones),
sends them to the WSGI app with a real personal token and checks each answer: no 5xx,
status codes and bodies as documented, required fields refused when missing, bounds kept,
``Allow`` on 405, and so on. A bounded number of examples keeps it inside ``make test``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from mam.runtime import Runtime
from tests.web.test_metadata import make_episode
from tests.web.test_upload import token_for

EXAMPLES = 60


class AnyQueue:
    """Records whatever the views enqueue (no broker in this test)."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: f"{name}-task"


@pytest.fixture
def auth(app: Flask, runtime: Runtime) -> dict[str, str]:
    app.extensions["mam_queue"] = AnyQueue()
    for title in ("党建引领乡村振兴", "果树栽培", "田间课堂"):
        make_episode(runtime, title)
    header = token_for(runtime, "producer")
    return {"Authorization": header["Authorization"]}


@pytest.fixture
def api_schema(app: Flask, auth: dict[str, str]) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers=auth)


def _fuzz(operation: Any, mode: GenerationMode, auth: dict[str, str]) -> int:
    """Send up to EXAMPLES generated requests to one operation; return how many were sent."""
    sent: list[int] = []

    @given(case=operation.as_strategy(generation_mode=mode, headers=auth))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def run(case: Any) -> None:
        sent.append(1)
        case.call_and_validate()

    run()
    return len(sent)


@pytest.mark.slow
def test_api_conforms_to_its_schema(
    api_schema: Any, auth: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # schemathesis.pytest.from_fixture() reads a pytest-private attribute that pytest 9.2
    # removed, so the operations are driven here with the documented strategy API.
    failures: list[str] = []
    operations = cases = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                cases += _fuzz(operation, mode, auth)
            except Unsatisfiable:  # nothing to get wrong (no parameters, no body)
                continue
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every failure is a finding
                failures.append(f"{operation.label} [{mode.value}]: {exc}"[:2000])
    with capsys.disabled():
        print(  # noqa: T201 - the fuzzing tally is the test's report
            f"\nschemathesis: {operations} operations, {cases} generated requests "
            f"(positive and negative), {len(failures)} failing operations"
        )
    assert not failures, "\n\n".join(failures)


def test_undocumented_methods_are_405_with_allow(app: Flask, auth: dict[str, str]) -> None:
    client = app.test_client()
    spec = client.get("/api/v1/openapi.json", headers=auth).get_json()
    checked = 0
    for path, item in spec["paths"].items():
        url = re.sub(r"\{[a-z_]+\}", "1", path)
        documented = {m.upper() for m in item if m != "parameters"}
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - documented:
            r = client.open(url, method=method, headers=auth)
            assert r.status_code == 405, (method, path, r.status_code)
            assert set(r.headers["Allow"].split(", ")) >= documented, (method, path)
            checked += 1
    assert checked >= 20
