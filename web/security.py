"""What every request and response goes through: bounded ids, strict JSON, security headers."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask_talisman import Talisman
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, Map, ValidationError

from mam.config import Settings
from mam.inputs import MAX_ID, well_formed


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` that matches ASCII digits only and ids a database column can hold.

    Werkzeug's converter takes any Unicode digit (``\\d``) and any size; an id beyond 63
    bits overflows the database and "١٢" would quietly mean 12. Neither names a row: 404.
    Out of range raises NotFound itself: a plain ValidationError lets Werkzeug answer 405
    when another method's rule has the same path (its methods are checked before values).
    """

    regex = r"[0-9]{1,19}"  # 2**63 - 1 has 19 digits

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)

    def to_python(self, value: str) -> Any:
        try:
            return super().to_python(value)
        except ValidationError:
            raise NotFound() from None


class StrictJSONProvider(DefaultJSONProvider):
    """Refuse JSON bodies holding lone surrogates ("\\ud800"): they are not Unicode text.

    ``request.get_json()`` turns the ValueError into a 400 (or None when ``silent``).
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        value = json.loads(s, **kwargs)
        if not well_formed(value):
            raise ValueError("JSON text holds a lone surrogate (not well-formed Unicode)")
        return value


def _storage_origins(settings: Settings) -> list[str]:
    """Return the origins of presigned storage links (S3), which pages load media from."""
    if settings.storage_backend != "s3":
        return []
    origins = []
    for url in (settings.s3_public_endpoint_url, settings.s3_endpoint_url):
        parts = urlsplit(url)
        if parts.scheme and parts.netloc:
            origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins or ["https://*.amazonaws.com"]


def content_security_policy(settings: Settings) -> dict[str, str]:
    """Return the CSP: only this site's own scripts and styles, no framing, no plugins."""
    media = " ".join(["'self'", "blob:", *_storage_origins(settings)])
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": f"{media} data:",
        "media-src": media,
        "connect-src": media,  # tus PATCHes, polling, and HLS segments fetched by script
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def init_app(app: Flask, settings: Settings) -> None:
    """Install the bounded id converter, the strict JSON reader and the security headers."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.json = StrictJSONProvider(app)
    Talisman(
        app,
        force_https=False,  # TLS ends at the proxy; MAM_SECURE_COOKIES says whether it does
        strict_transport_security=settings.secure_cookies,
        session_cookie_secure=settings.secure_cookies,
        session_cookie_http_only=True,
        frame_options="DENY",
        content_security_policy=content_security_policy(settings),
        referrer_policy="same-origin",
    )
