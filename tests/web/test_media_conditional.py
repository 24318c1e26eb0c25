"""Media routes share the package downloads' RFC 9110 handling (local storage)."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from mam.models import Rendition, VersionState
from mam.runtime import Runtime
from tests import factories
from tests.web.county_fixtures import POSTER


def test_poster_preconditions_and_ranges(
    login: Callable[[str], FlaskClient], runtime: Runtime
) -> None:
    with runtime.db.session() as s:
        v = factories.version(s, VersionState.READY)
        key = f"thumbs/{v.id}/poster.jpg"
        runtime.storage.put_bytes(key, POSTER)
        v.renditions.append(
            Rendition(profile="poster", storage_key=key, mime_type="image/jpeg", size=len(POSTER))
        )
        s.commit()
        url = f"/media/versions/{v.id}/poster"
    client = login("producer")

    def get(headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
        with client.get(url, headers=headers or {}) as response:
            return response.status_code, response.get_data(), dict(response.headers)

    status, body, headers = get()
    assert status == 200 and body == POSTER and headers["Content-Type"] == "image/jpeg"
    etag = headers["ETag"]
    assert get({"If-Match": '"other"'})[:2] == (412, b"")
    assert get({"Range": "bytes=10-", "If-Range": "W/" + etag})[:2] == (200, POSTER)
    assert get({"Range": "bytes=10-", "If-Range": etag})[:2] == (206, POSTER[10:])
    assert get({"If-None-Match": etag})[:2] == (304, b"")
    assert get({"If-Modified-Since": headers["Last-Modified"]})[0] == 304
