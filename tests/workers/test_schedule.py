from __future__ import annotations

from mam.config import Settings
from workers.celery_app import EXPIRE_UPLOADS_TASK, PACKAGE_TASK, RECONCILE_TASK, make_celery


def test_beat_runs_the_housekeeping_and_every_task_is_registered(settings: Settings) -> None:
    app = make_celery(settings)
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {RECONCILE_TASK, EXPIRE_UPLOADS_TASK} <= scheduled
    for name in (RECONCILE_TASK, EXPIRE_UPLOADS_TASK, PACKAGE_TASK, "mam.process_version"):
        assert name in app.tasks, name
    route = app.amqp.router.route({}, PACKAGE_TASK)
    assert route["queue"].name == "default"
