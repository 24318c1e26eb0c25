"""Conditional and ranged GETs of stored objects, after RFC 9110 (sections 13 and 14).

Werkzeug's ``send_file`` reads only local files, compares ``If-Range`` weakly (it drops the
``W/``) and answers a failed ``If-Match`` with a whole body. This module decides the answer
from the request headers alone (:func:`evaluate`) and streams the chosen bytes from any
storage backend with its ranged read (:func:`send_object`), telling the caller how many
bytes really went out, also when the client goes away half-way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from flask import Request, Response
from werkzeug.datastructures import ETags
from werkzeug.http import http_date, parse_date, parse_etags, parse_range_header, quote_etag

from mam.errors import NotFound, Unavailable
from mam.i18n import N_
from storage import Storage, content_disposition
from storage.base import ObjectNotFound, StorageError

CHUNK = 1 << 20  # a cut connection is noticed within a chunk or two (kernel buffers hold more)


@dataclass(frozen=True)
class Representation:
    """What the validators of a stored object are: size, strong ETag, modification time."""

    size: int
    etag: str | None  # opaque tag without quotes; always a strong validator here
    last_modified: datetime | None = None


@dataclass(frozen=True)
class Decision:
    """The answer to a GET: status and, for 200/206, the byte span [start, stop)."""

    status: int
    start: int = 0
    stop: int = 0


def _etags(value: str | None) -> ETags | None:
    return parse_etags(value) if value else None


def _same_second(a: datetime, b: datetime) -> bool:
    return int(a.timestamp()) == int(b.timestamp())


def _not_after(modified: datetime, date: datetime) -> bool:
    return int(modified.timestamp()) <= int(date.timestamp())


def _if_range_matches(value: str, rep: Representation) -> bool:
    """Strong comparison only: a weak validator never matches (RFC 9110 section 13.1.5)."""
    value = value.strip()
    if value.startswith("W/"):
        return False
    if value.startswith('"'):
        return rep.etag is not None and value == quote_etag(rep.etag)
    date = parse_date(value)
    return (
        date is not None and rep.last_modified is not None and _same_second(date, rep.last_modified)
    )


def _preconditions(request: Request, rep: Representation) -> int | None:
    """Return 412 or 304 when a precondition decides the answer (RFC 9110 section 13.2.2)."""
    safe = request.method in ("GET", "HEAD")
    if_match = _etags(request.headers.get("If-Match"))
    if if_match is not None:
        if rep.etag is None or not if_match.contains(rep.etag):  # strong comparison
            return 412
    else:
        since = parse_date(request.headers.get("If-Unmodified-Since"))
        if since and rep.last_modified and not _not_after(rep.last_modified, since):
            return 412
    if_none_match = _etags(request.headers.get("If-None-Match"))
    if if_none_match is not None:
        if if_none_match.star_tag or (
            rep.etag is not None and if_none_match.contains_weak(rep.etag)
        ):
            return 304 if safe else 412
    elif safe:
        since = parse_date(request.headers.get("If-Modified-Since"))
        if since and rep.last_modified and _not_after(rep.last_modified, since):
            return 304
    return None


def evaluate(request: Request, rep: Representation) -> Decision:
    """Decide the status and byte span for a GET/HEAD of ``rep`` (preconditions, Range)."""
    status = _preconditions(request, rep)
    if status is not None:
        return Decision(status)
    whole = Decision(200, 0, rep.size)
    raw_range = request.headers.get("Range")
    if raw_range is None or request.method != "GET":
        return whole
    if_range = request.headers.get("If-Range")
    if if_range is not None and not _if_range_matches(if_range, rep):
        return whole  # the client's copy is stale: send it all
    parsed = parse_range_header(raw_range)
    # Werkzeug would ignore a malformed Range and send everything; a resuming client
    # is better told plainly that its request makes no sense (416).
    span = parsed.range_for_length(rep.size) if parsed is not None else None
    if parsed is not None and len(parsed.ranges) != 1:
        return whole  # no multipart/byteranges: the whole file
    return Decision(416) if span is None else Decision(206, span[0], span[1])


def _headers(rep: Representation) -> dict[str, str]:
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-cache"}
    if rep.etag is not None:
        headers["ETag"] = quote_etag(rep.etag)
    if rep.last_modified is not None:
        headers["Last-Modified"] = http_date(rep.last_modified)
    return headers


def send_object(
    request: Request,
    store: Storage,
    key: str,
    rep: Representation,
    *,
    mimetype: str,
    download_name: str | None = None,
    on_sent: Callable[[int, int], None] | None = None,
) -> Response:
    """Answer a GET/HEAD of the stored ``key``; ``on_sent(start, bytes)`` runs after a body.

    ``on_sent`` is called once the body ends, or the client disconnects, with the bytes
    the server handed to the connection (not the ones it merely meant to send).
    """
    decision = evaluate(request, rep)
    headers = _headers(rep)
    if decision.status in (304, 412):
        return Response(status=decision.status, headers=headers)
    if decision.status == 416:
        headers["Content-Range"] = f"bytes */{rep.size}"
        return Response(status=416, headers=headers)
    if download_name:
        headers["Content-Disposition"] = content_disposition(download_name)
    length = decision.stop - decision.start
    headers["Content-Length"] = str(length)
    if decision.status == 206:
        headers["Content-Range"] = f"bytes {decision.start}-{decision.stop - 1}/{rep.size}"
    if request.method == "HEAD" or length == 0:
        body: Iterator[bytes] | list[bytes] = []
        if length == 0 and request.method == "GET" and on_sent is not None:
            on_sent(decision.start, 0)
    else:
        chunks = store.iter_range(key, decision.start, decision.stop - 1, chunk_size=CHUNK)
        try:  # read the first chunk now: a missing object is a 404, not a broken 200
            first = next(chunks, b"")
        except ObjectNotFound:
            raise NotFound(N_("The file is missing from storage.")) from None
        except StorageError as exc:
            raise Unavailable(
                N_("Storage cannot be read just now (%(reason)s). Try again later."),
                params={"reason": str(exc)[:200]},
            ) from exc
        body = _stream(first, chunks, decision.start, on_sent)
    response = Response(body, status=decision.status, headers=headers, mimetype=mimetype)
    response.direct_passthrough = True  # the length is known; do not buffer or re-chunk
    return response


def _stream(
    first: bytes,
    chunks: Iterator[bytes],
    start: int,
    on_sent: Callable[[int, int], None] | None,
) -> Iterator[bytes]:
    """Yield ``first`` then the rest of ``chunks``; count a chunk once the server took it."""
    sent = 0
    try:
        if first:
            yield first  # returns here only after the server wrote it to the socket
            sent += len(first)
        for chunk in chunks:
            yield chunk
            sent += len(chunk)
    finally:  # also when the client goes away mid-download (the generator is closed)
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
        if on_sent is not None:
            on_sent(start, sent)
