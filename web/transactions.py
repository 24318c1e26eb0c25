"""The request's unit of work (mam.uow): one session per request, committed after the view,
rolled back when the view failed; broker trouble reported to the user in one way."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, flash, g
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from mam import outbox
from mam.uow import QUEUE_KEY

# Set on responses whose work is saved but waits for the broker (the page shows the same
# message as a flash).
DELAYED_HEADER = "Mam-Queue-Delayed"


class AppQueue:
    """The app's task queue (``web.extensions.task_queue``), looked up when first used."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def _queue(self) -> Any:
        from web.extensions import task_queue  # noqa: PLC0415 - extensions imports this module

        with self.app.app_context():
            return task_queue()

    def enqueue_processing(self, version_id: int, job_id: int) -> str | None:
        return self._queue().enqueue_processing(version_id, job_id)

    def enqueue_package(self, package_id: int) -> str | None:
        return self._queue().enqueue_package(package_id)


def open_session() -> Session:
    """Open the request's session; its outbox goes to the app's task queue after the commit."""
    rt = current_app.extensions["mam"]
    session: Session = rt.db.sessionmaker()
    session.info[QUEUE_KEY] = AppQueue(current_app._get_current_object())  # type: ignore[attr-defined]
    return session


def view_failed() -> None:
    """Roll the request's work back whatever the response (an error handler calls this)."""
    g.uow_failed = True


def commit_before_streaming() -> None:
    """Commit the request's work now and end its transaction: no database transaction (on
    SQLite: no write lock) is held while a long response body streams."""
    session: Session | None = g.get("db_session")
    if session is not None:
        if session.in_transaction():
            session.commit()
        session.close()


def _finish(response: Response) -> Response:
    session: Session | None = g.get("db_session")
    if session is None:
        return response
    if g.pop("uow_failed", False) or response.status_code >= 500:
        session.rollback()
        return response
    if session.in_transaction():
        session.commit()  # after-commit work (the outbox, mail, file clean-up) runs here
    trouble = outbox.queue_trouble(session)
    if trouble is not None:
        flash(_(outbox.QUEUE_DELAYED), "warning")
        response.headers[DELAYED_HEADER] = str(trouble.delayed)
    return response


def _close(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()  # rolls back whatever was not committed


def init_app(app: Flask) -> None:
    """Commit each request's unit of work after its view; close it at the end."""
    app.after_request(_finish)
    app.teardown_appcontext(_close)
