"""The upload page and a tus 1.0 server (core + creation + termination + expiration).

https://tus.io/protocols/resumable-upload : the client creates an upload with POST
(Upload-Length, Upload-Metadata), learns the offset with HEAD and sends bytes with PATCH
at that offset. Views only translate headers to ``UploadService`` calls.
"""

from __future__ import annotations

import base64
import binascii
import io
from email.utils import format_datetime
from typing import Any, BinaryIO

from flask import Blueprint, Response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import select

from mam import inputs
from mam.errors import Duplicate, InvalidInput, MamError
from mam.messages import media
from mam.models import Programme, Role, SourceType, Version
from mam.models.catalogue import UploadSession, UploadState
from mam.services import metadata
from mam.services.uploads import UploadService
from web.auth import allow
from web.extensions import csrf, db_session, runtime, storage
from web.tokens import require_csrf

bp = Blueprint("upload", __name__)
UPLOADERS = (Role.PRODUCER, Role.ADMIN)
TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,termination,expiration"


def service() -> UploadService:
    """Return the upload service for this request."""
    settings = runtime().settings
    return UploadService(
        db_session(),
        storage(),
        settings.upload_staging_dir,
        max_size=settings.max_upload_size,
    )


def _tus(response: Response, upload: UploadSession | None = None) -> Response:
    response.headers["Tus-Resumable"] = TUS_VERSION
    response.headers["Cache-Control"] = "no-store"
    if upload is not None:
        response.headers["Upload-Offset"] = str(upload.offset)
        response.headers["Upload-Length"] = str(upload.length)
        response.headers["Upload-Expires"] = format_datetime(upload.expires_at, usegmt=True)
    return response


def _error(status: int, message: str, exc: MamError | None = None) -> Response:
    """Answer in plain text (what tus clients show); the code and a technical detail
    travel in headers, the detail also on a line of its own."""
    text = message + "\n"
    if exc is not None and exc.detail:
        text += _("Technical detail: %(detail)s", detail=exc.detail) + "\n"
    response = _tus(Response(text, status, mimetype="text/plain"))
    if exc is not None:
        response.headers["Upload-Error-Code"] = exc.code
    return response


def _duplicate(exc: Duplicate) -> Response:
    """Refuse a file already in the library with a status no tus client retries.

    409 would be natural, but tus reserves it for an offset mismatch, which clients
    retry (tus-js-client re-sends the whole file); 422 is final. ``Link: rel=duplicate``
    (RFC 6249) points at the episode and version that hold the same content, and
    ``Upload-Duplicate`` says whether the full SHA-256 or the fingerprint matched.
    """
    response = _error(422, exc.translated(_), exc)
    episode_id, number = exc.details.get("episode_id"), exc.details.get("number")
    if episode_id is not None:
        href = url_for("catalogue.episode", episode_id=episode_id, _anchor=f"version-{number}")
        response.headers["Link"] = f'<{href}>; rel="duplicate"'
    response.headers["Upload-Duplicate"] = str(exc.details.get("match") or "sha256")
    return response


def _int_header(name: str) -> int:
    return inputs.parse_int(request.headers.get(name, ""), name)


def parse_metadata(header: str) -> dict[str, str]:
    """Decode an Upload-Metadata header: ``key base64value,key2 base64value2``."""
    out: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _, value = pair.partition(" ")
        try:
            out[key] = base64.b64decode(value, validate=True).decode("utf-8") if value else ""
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidInput(
                f"Upload-Metadata: the value of {key!r} is not base64 UTF-8"
            ) from None
    return out


def _protocol(view: Any) -> Any:
    """Wrap a tus view: version check, CSRF for cookie sessions, errors as plain text."""

    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if request.headers.get("Tus-Resumable") != TUS_VERSION:
            response = _error(412, f"Tus-Resumable: {TUS_VERSION} is required")
            response.headers["Tus-Version"] = TUS_VERSION
            return response
        try:
            require_csrf()
            return view(*args, **kwargs)
        except CSRFError:
            return _error(403, "missing or wrong X-CSRFToken header; reload the page")
        except Duplicate as exc:
            db_session().rollback()
            return _duplicate(exc)
        except MamError as exc:
            db_session().rollback()
            return _error(exc.http_status, exc.translated(_), exc)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return csrf.exempt(wrapper)


@bp.route("/upload")
@allow(*UPLOADERS)
def page() -> ResponseReturnValue:
    """Show the upload page (optionally for a new cut of one episode)."""
    s = db_session()
    episode = None
    if request.args.get("episode_id"):
        episode = metadata.episode_or_404(s, request.args["episode_id"])
    unfinished = s.scalars(
        select(UploadSession)
        .where(UploadSession.user_id == current_user.id, UploadSession.state == UploadState.OPEN)
        .order_by(UploadSession.updated_at.desc())
    ).all()
    return render_template(
        "upload.html",
        episode=episode,
        programmes=s.scalars(select(Programme.name).order_by(Programme.name)).all(),
        topics=metadata.ensure_topics(s),
        sources=list(SourceType),
        unfinished=unfinished,
        max_size=runtime().settings.max_upload_size,
    )


@bp.route("/upload/files", methods=["OPTIONS"], provide_automatic_options=False)
@bp.route("/upload/files/<upload_id>", methods=["OPTIONS"], provide_automatic_options=False)
@allow(*UPLOADERS)
def options(upload_id: str | None = None) -> ResponseReturnValue:
    """Describe the server's tus support."""
    response = _tus(Response(status=204))
    response.headers["Tus-Version"] = TUS_VERSION
    response.headers["Tus-Extension"] = EXTENSIONS
    response.headers["Tus-Max-Size"] = str(runtime().settings.max_upload_size)
    return response


@bp.route("/upload/files", methods=["POST"])
@allow(*UPLOADERS)
@_protocol
def create() -> ResponseReturnValue:
    """Open an upload; 201 with its URL in Location."""
    if "Upload-Defer-Length" in request.headers:
        raise InvalidInput(media.UPLOAD_DEFER_LENGTH)
    length = _int_header("Upload-Length")
    meta = parse_metadata(request.headers.get("Upload-Metadata", ""))
    filename = meta.get("filename") or meta.get("name") or "unnamed"
    upload = service().create(current_user, length=length, filename=filename, meta=meta)
    response = _tus(Response(status=201), upload)
    response.headers["Location"] = url_for("upload.file", upload_id=upload.id, _external=True)
    return response


@bp.route("/upload/files/<upload_id>", methods=["HEAD", "PATCH", "DELETE"])
@allow(*UPLOADERS)
@_protocol
def file(upload_id: str) -> ResponseReturnValue:
    """HEAD: the offset; PATCH: append bytes; DELETE: cancel."""
    svc = service()
    if request.method == "DELETE":
        svc.cancel(upload_id, current_user)
        return _tus(Response(status=204))
    if request.method == "HEAD":
        upload = svc.get(upload_id, current_user)
        if upload.state is UploadState.FAILED:
            return _error(410, upload.error or "this upload was refused")
        return _tus(Response(status=200), upload)
    if request.content_type != "application/offset+octet-stream":
        return _error(415, "Content-Type must be application/offset+octet-stream")
    offset = _int_header("Upload-Offset")
    size = request.content_length
    request.max_content_length = runtime().settings.max_upload_size
    upload = svc.append(upload_id, current_user, offset, _body(size), size)
    response = _tus(Response(status=204), upload)
    if upload.version_id:
        response.headers["Upload-Version-Id"] = str(upload.version_id)
    return response


class _SocketBody(io.RawIOBase):
    """The rest of a request body of known length, read from the client socket itself."""

    def __init__(self, sock: Any, reader: Any, head: bytes) -> None:
        super().__init__()
        self._sock = sock
        self._reader = reader  # gunicorn's LengthReader: its ``length`` is what is left
        self._head = memoryview(head)  # body bytes gunicorn had read with the headers

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        got = 0
        if self._head:
            got = min(len(view), len(self._head))
            view[:got] = self._head[:got]
            self._head = self._head[got:]
        while got < len(view) and self._reader.length > 0:
            n = self._sock.recv_into(view[got : got + self._reader.length])
            if not n:
                break
            self._reader.length -= n
            got += n
        return got


def _body(size: int | None) -> BinaryIO:
    """Return the PATCH body as a stream that can fill a buffer in place.

    gunicorn's ``wsgi.input`` hands a body over as bytes that went through several
    in-memory buffers (about four copies of every byte, which halves the upload
    throughput); for a body of known length its socket is read directly instead, and
    gunicorn's reader is told what was consumed, so keep-alive goes on working. Any
    other server, or a gunicorn whose internals differ, gets the standard stream.
    """
    environ = request.environ
    if not runtime().settings.fast_socket_read:  # MAM_FAST_SOCKET_READ=0: the standard stream
        return request.stream  # type: ignore[return-value]
    sock = environ.get("gunicorn.socket")
    body = environ.get("wsgi.input")
    reader = getattr(body, "reader", None)
    unreader = getattr(reader, "unreader", None)
    buffered = getattr(unreader, "buf", None)
    usable = (
        sock is not None
        and size
        and type(reader).__name__ == "LengthReader"
        and getattr(reader, "length", None) == size
        and getattr(unreader, "sock", None) is sock
        and isinstance(buffered, io.BytesIO)
        and isinstance(getattr(body, "buf", None), io.BytesIO)
        and body.buf.tell() == 0  # type: ignore[union-attr]
    )
    if not usable:
        return request.stream  # type: ignore[return-value]
    held = buffered.getvalue()  # type: ignore[union-attr]
    head, rest = held[:size], held[size:]
    unreader.buf = io.BytesIO()  # type: ignore[union-attr]
    unreader.buf.write(rest)  # type: ignore[union-attr] # a pipelined next request stays
    reader.length -= len(head)  # type: ignore[union-attr]
    return _SocketBody(sock, reader, head)  # type: ignore[return-value]


@bp.route("/upload/files/<upload_id>/status")
@allow(*UPLOADERS)
def status(upload_id: str) -> ResponseReturnValue:
    """Return what became of an upload (the page asks once the bytes are sent)."""
    upload = service().get(upload_id, current_user)
    episode_url = None
    if upload.version_id:
        version = db_session().get(Version, upload.version_id)
        if version is not None:
            episode_url = url_for("catalogue.episode", episode_id=version.episode_id)
    return {
        "id": upload.id,
        "state": upload.state.value,
        "offset": upload.offset,
        "length": upload.length,
        "filename": upload.filename,
        "error": upload.error,
        "sha256": upload.sha256,
        "version_id": upload.version_id,
        "episode_url": episode_url,
    }
