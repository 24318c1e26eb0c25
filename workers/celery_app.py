"""The Celery app, configured from ``mam.config.Settings`` (``celery -A workers.celery_app``)."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, signals
from kombu import Exchange, Queue

from mam import logs
from mam.config import Settings
from mam.logs import use_json

TRANSCODE = "transcode"
DEFAULT = "default"
PROCESS_TASK = "mam.process_version"
CHUNK_TASK = "mam.encode_chunk"
SOUND_TASK = "mam.encode_sound"
JOIN_TASK = "mam.join_ladder"
RECONCILE_TASK = "mam.reconcile_jobs"
PACKAGE_TASK = "mam.build_release_package"
EXPIRE_UPLOADS_TASK = "mam.expire_uploads"
FIXITY_TASK = "mam.fixity_audit"
LICENCE_SWEEP_TASK = "mam.licence_sweep"
TASK_MODULES = (
    "workers.tasks.processing",
    "workers.tasks.maintenance",
    "workers.tasks.packages",
    "workers.tasks.chunks",
    "workers.tasks.uploads",
)


def result_backend(settings: Settings) -> str:
    """Return the result backend the chord of a chunked ladder needs (MAM_RESULT_BACKEND,
    else the broker's Redis, else a SQLite file under home)."""
    if settings.result_backend:
        return settings.result_backend
    if settings.broker_url.startswith(("redis://", "rediss://")):
        return settings.broker_url
    return f"db+sqlite:///{settings.home / 'celery-results.sqlite'}"


def celery_config(settings: Settings) -> dict[str, Any]:
    """Return the Celery configuration for ``settings``.

    Redis redelivers a task nobody acknowledged within the visibility timeout; with
    late acknowledgement a transcode is acknowledged when it ends, so the timeout must
    exceed the longest a transcode may run (its hard time limit), or a long job would
    be started a second time while the first still runs.
    """
    if settings.visibility_timeout <= settings.transcode_time_limit:
        raise ValueError(
            f"MAM_VISIBILITY_TIMEOUT ({settings.visibility_timeout} s) must exceed "
            f"MAM_TRANSCODE_TIME_LIMIT ({settings.transcode_time_limit} s)"
        )
    if settings.transcode_soft_time_limit >= settings.transcode_time_limit:
        raise ValueError(
            f"MAM_TRANSCODE_SOFT_TIME_LIMIT ({settings.transcode_soft_time_limit} s) must be "
            f"below MAM_TRANSCODE_TIME_LIMIT ({settings.transcode_time_limit} s)"
        )
    # beat keeps its schedule under home; a beat started before anything else made home
    # (a production host: nothing else writes there) failed on its first tick.
    settings.home.mkdir(parents=True, exist_ok=True)
    transport: dict[str, Any] = {"visibility_timeout": settings.visibility_timeout}
    conf: dict[str, Any] = {
        "broker_url": settings.broker_url,
        "broker_connection_retry_on_startup": True,
        "task_ignore_result": True,  # the Job table is the truth, not a result backend
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # One direct exchange per queue, so a message for one queue never lands in both.
        "task_queues": (
            Queue(TRANSCODE, Exchange(TRANSCODE, type="direct"), routing_key=TRANSCODE),
            Queue(DEFAULT, Exchange(DEFAULT, type="direct"), routing_key=DEFAULT),
        ),
        "task_default_exchange": DEFAULT,
        "task_default_routing_key": DEFAULT,
        "task_default_queue": DEFAULT,
        "task_routes": {
            name: {"queue": TRANSCODE, "exchange": TRANSCODE, "routing_key": TRANSCODE}
            for name in (PROCESS_TASK, CHUNK_TASK, SOUND_TASK, JOIN_TASK)
        },
        "task_annotations": {
            name: {
                "soft_time_limit": settings.transcode_soft_time_limit,
                "time_limit": settings.transcode_time_limit,
            }
            for name in (PROCESS_TASK, CHUNK_TASK, SOUND_TASK, JOIN_TASK)
        },
        # Only the chord of a chunked ladder keeps results (its pieces' storage keys).
        "result_backend": result_backend(settings),
        "result_expires": 7 * 24 * 3600,
        "result_backend_transport_options": dict(transport),
        # Task events for Flower and `celery events` (monitoring, docker/compose.yaml).
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "beat_schedule": {
            "reconcile-jobs": {"task": RECONCILE_TASK, "schedule": 300.0},
            "expire-uploads": {"task": EXPIRE_UPLOADS_TASK, "schedule": 3600.0},
            "fixity-audit": {"task": FIXITY_TASK, "schedule": float(settings.fixity_interval)},
            # hourly: a date turns over once a day, a missed run is caught up within the hour
            "licence-sweep": {"task": LICENCE_SWEEP_TASK, "schedule": 3600.0},
        },
        "beat_schedule_filename": str(settings.home / "celerybeat-schedule"),
        "include": list(TASK_MODULES),
    }
    if settings.embedded_broker:
        # kombu's filesystem transport: messages are files in one shared folder, moved
        # atomically; web, CLI and worker on one machine need nothing else running.
        folder = settings.broker_dir / "queue"  # type: ignore[operator]
        processed = settings.broker_dir / "processed"  # type: ignore[operator]
        control = settings.broker_dir / "control"  # type: ignore[operator]
        for path in (folder, processed, control):
            path.mkdir(parents=True, exist_ok=True)
        transport.update(
            data_folder_in=str(folder),
            data_folder_out=str(folder),
            processed_folder=str(processed),
            control_folder=str(control),
            store_processed=False,
        )
        conf["worker_enable_remote_control"] = False
    conf["broker_transport_options"] = transport
    return conf


def _json_logs(logger: logging.Logger, **_kwargs: Any) -> None:
    """With MAM_LOG_FORMAT=json, make Celery's handlers write JSON with the job id."""
    if Settings.from_env().log_format.strip().lower() == "json":
        for handler in logger.handlers:
            use_json(handler)


def _task_started(task_id: str | None = None, kwargs: dict[str, Any] | None = None,
                  **_rest: Any) -> None:  # fmt: skip
    logs.task_id.set(task_id)
    logs.job_id.set((kwargs or {}).get("job_id"))


def _task_finished(**_rest: Any) -> None:
    logs.task_id.set(None)
    logs.job_id.set(None)


signals.after_setup_logger.connect(_json_logs, weak=False)
signals.after_setup_task_logger.connect(_json_logs, weak=False)
signals.task_prerun.connect(_task_started, weak=False)
signals.task_postrun.connect(_task_finished, weak=False)


def make_celery(settings: Settings | None = None) -> Celery:
    """Create the Celery app for ``settings`` (default: the environment)."""
    settings = settings or Settings.from_env()
    app = Celery("mam", set_as_current=True)
    app.conf.update(celery_config(settings))
    return app
