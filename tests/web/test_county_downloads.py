"""Package downloads on both backends: true completion figures and RFC 9110 conditionals."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from tests.web.county_fixtures import CountyWorld
from tests.web.tus_helpers import serving


def get(world: CountyWorld, headers: dict[str, str] | None = None, method: str = "GET"):  # type: ignore[no-untyped-def]
    client = world.app.test_client()
    auth = world.token()
    response = client.open(world.url, method=method, headers={**auth, **(headers or {})})
    body = response.get_data()
    response.close()  # ends the streamed body: the transfer is logged now
    return response, body


def test_whole_download_is_completed(world: CountyWorld) -> None:
    response, body = get(world)
    assert response.status_code == 200 and body == world.data
    assert response.headers["ETag"] == f'"{world.sha256}"'
    assert response.headers["Content-Length"] == str(len(world.data))
    assert world.downloads() == [(0, len(world.data), True)]
    assert world.downloaded()


def test_last_byte_is_not_a_download(world: CountyWorld) -> None:
    response, body = get(world, {"Range": "bytes=-1"})
    assert response.status_code == 206 and body == world.data[-1:]
    assert world.downloads() == [(len(world.data) - 1, 1, False)]
    assert not world.downloaded()


def test_two_halves_in_two_requests_complete_the_copy(world: CountyWorld) -> None:
    half = len(world.data) // 2
    second, body2 = get(world, {"Range": f"bytes={half}-"})
    assert second.status_code == 206 and body2 == world.data[half:]
    assert not world.downloaded()
    first, body1 = get(world, {"Range": f"bytes=0-{half - 1}"})
    assert first.status_code == 206 and body1 + body2 == world.data
    assert [c for _s, _n, c in world.downloads()] == [False, True]
    assert world.downloaded()


def test_overlapping_pieces_with_a_gap_are_not_complete(world: CountyWorld) -> None:
    size = len(world.data)
    get(world, {"Range": "bytes=0-999"})
    get(world, {"Range": "bytes=500-1999"})
    get(world, {"Range": f"bytes=2001-{size - 1}"})  # byte 2000 never sent
    assert not world.downloaded()
    get(world, {"Range": "bytes=1990-2010"})
    assert world.downloaded()


def test_if_match_failing_sends_412_without_body(world: CountyWorld) -> None:
    response, body = get(world, {"If-Match": '"not-this-one"'})
    assert response.status_code == 412 and body == b""
    assert world.downloads() == []
    response, body = get(world, {"If-Match": f'W/"{world.sha256}"'})  # weak never matches
    assert response.status_code == 412 and body == b""
    response, body = get(world, {"If-Match": f'"{world.sha256}"', "Range": "bytes=0-9"})
    assert response.status_code == 206 and body == world.data[:10]


def test_if_range_compares_strongly(world: CountyWorld) -> None:
    weak, body = get(world, {"Range": "bytes=100-", "If-Range": f'W/"{world.sha256}"'})
    assert weak.status_code == 200 and body == world.data  # a weak validator never matches
    other, body = get(world, {"Range": "bytes=100-", "If-Range": '"older-build"'})
    assert other.status_code == 200 and body == world.data
    strong, body = get(world, {"Range": "bytes=100-", "If-Range": f'"{world.sha256}"'})
    assert strong.status_code == 206 and body == world.data[100:]
    assert strong.headers["Content-Range"] == f"bytes 100-{len(world.data) - 1}/{len(world.data)}"


def test_not_modified_head_and_bad_ranges(world: CountyWorld) -> None:
    response, body = get(world, {"If-None-Match": f'W/"{world.sha256}"'})
    assert response.status_code == 304 and body == b""
    head, body = get(world, method="HEAD")
    assert head.status_code == 200 and body == b""
    assert head.headers["Content-Length"] == str(len(world.data))
    beyond, _ = get(world, {"Range": f"bytes={len(world.data) + 5}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(world.data)}"
    assert world.downloads() == []  # neither a 304, a HEAD nor a 416 is a download


@pytest.mark.slow
def test_interrupted_transfer_counts_only_the_bytes_sent(backend_runtime) -> None:  # type: ignore[no-untyped-def]
    from tests.web.county_fixtures import build_world

    big = build_world(backend_runtime, 24 << 20, seed=3)
    auth = big.token()
    with serving(big.app) as base:
        parts = urlsplit(base)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)  # little in flight
        sock.settimeout(20)
        sock.connect((parts.hostname, parts.port))
        head = f"GET {big.url} HTTP/1.1\r\nHost: {parts.netloc}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in auth.items()
        )
        sock.sendall((head + "\r\n").encode())
        raw = b""
        while b"\r\n\r\n" not in raw:
            raw += sock.recv(65536)
        headers, received = raw.split(b"\r\n\r\n", 1)
        assert headers.startswith(b"HTTP/1.1 200")
        while len(received) < 1 << 20:
            received += sock.recv(65536)
        sock.close()  # the line drops half-way (unread data: the kernel resets it)
        rows = big.wait_downloads(1)
        assert len(rows) == 1
        start, sent, completed = rows[0]
        assert start == 0 and not completed
        assert len(received) <= sent < len(big.data)
        assert not big.downloaded()
        # resuming where the client stopped completes the copy
        client = big.app.test_client()
        resumed = client.get(big.url, headers={**auth, "Range": f"bytes={len(received)}-"})
        assert received + resumed.get_data() == big.data
        resumed.close()
    assert big.wait_downloads(2)[1][2] is True
    assert big.downloaded()


def test_a_package_missing_from_storage_is_404_not_a_broken_download(world: CountyWorld) -> None:
    world.runtime.storage.delete(f"packages/{world.release}/tv.zip")
    response, body = get(world, {"Accept-Language": "en"})
    assert response.status_code == 404 and b"missing from storage" in body
    assert world.downloads() == []


def test_publisher_sees_a_cut_download_as_partial(world: CountyWorld) -> None:
    size = len(world.data)
    get(world, {"Range": f"bytes=0-{size * 43 // 100}"})
    client = world.app.test_client()
    html = client.get(f"/releases/{world.release}", headers=world.token("publisher", ("api",)))
    assert html.status_code == 403  # the release pages are for the browser session
    from tests.web.test_county_page import signed_in

    page = signed_in(world, "publisher").get(f"/releases/{world.release}").get_data(as_text=True)
    row = page.split('data-county="c1"')[1].split("</tr>")[0]
    assert "部分（已收到数据包的 43%）" in row
    get(world, {"Range": f"bytes={size * 43 // 100 + 1}-"})
    page = signed_in(world, "publisher").get(f"/releases/{world.release}").get_data(as_text=True)
    row = page.split('data-county="c1"')[1].split("</tr>")[0]
    assert '<td data-testid="downloaded">是</td>' in row
