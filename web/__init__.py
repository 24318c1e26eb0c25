"""Flask application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

from mam.config import Settings
from mam.logs import configure_logging
from mam.runtime import Runtime, build_runtime

log = logging.getLogger(__name__)
TRANSLATIONS = Path(__file__).with_name("translations")


def create_app(overrides: dict[str, Any] | None = None, *, runtime: Runtime | None = None) -> Flask:
    """Create the web app: defaults, then ``MAM_*`` settings, then ``overrides``."""
    overrides = dict(overrides or {})
    settings_overrides = overrides.pop("MAM_SETTINGS", None) or {}
    if runtime is None:
        runtime = build_runtime(Settings.from_env(**settings_overrides))
    settings = runtime.settings
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session instead; forms stay open for hours
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,  # forms only; media arrives by resumable upload
        JSON_AS_ASCII=False,
    )
    app.config.update(overrides)
    app.extensions["mam"] = runtime
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix  # noqa: PLC0415

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    if not any(TRANSLATIONS.glob("*/LC_MESSAGES/messages.mo")):
        log.warning(
            "translations are not compiled; run `make translations` (UI falls back to English)"
        )

    from web import (  # noqa: PLC0415
        admin,
        api,
        api_releases,
        assessment,
        auth,
        catalogue,
        county,
        errors,
        hls,
        i18n,
        inbox,
        jobs,
        learn,
        learners,
        media,
        messages,
        metadata,
        network,
        network_common,
        ops,
        plans,
        releases,
        review,
        screenings,
        security,
        templating,
        tokens,
        upload,
    )
    from web.extensions import init_extensions  # noqa: PLC0415

    security.init_app(app, settings)  # before the blueprints: their <int:> rules use it
    init_extensions(app)
    for module in (auth, catalogue, media, api, i18n, upload, tokens, metadata, review, inbox,
                   releases, county, admin, jobs, api_releases, hls, ops, network, plans,
                   screenings, assessment, learn, learners):
        app.register_blueprint(module.bp)
    errors.init_app(app)
    templating.init_app(app)
    messages.init_app(app)
    network_common.init_labels(app)
    auth.init_policy(app)
    ops.init_request_ids(app, json_logs=configure_logging(settings))
    return app
