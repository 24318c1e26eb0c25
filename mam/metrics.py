"""Prometheus metrics, computed from the database (the truth) at scrape time.

Every web process answers the same numbers, so gunicorn's several processes need no
shared metrics directory, and workers need no HTTP port of their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mam.models import Asset, Job, JobState, Rendition
from mam.models.catalogue import UploadSession
from mam.models.fixity import FixityCheck, FixityObject
from mam.models.release import Download, ReleasePackage
from mam.runtime import Runtime

QUEUES = ("transcode", "default")
DURATION_BUCKETS = (10.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 21600.0)
_CODE = re.compile(r"^([A-Za-z][\w.-]{0,40})(?::|\s)")


def failure_code(reason: str | None) -> str:
    """Return a short code for a job's last error: its leading word (``InvalidMedia``...)."""
    match = _CODE.match(reason or "")
    return match.group(1) if match else "other"


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def _histogram(name: str, doc: str, samples: dict[str, list[float]]) -> Metric:
    family = HistogramMetricFamily(name, doc, labels=["kind"])
    for kind, values in sorted(samples.items()):
        buckets: list[tuple[str, float]] = [
            (str(edge), float(sum(1 for v in values if v <= edge))) for edge in DURATION_BUCKETS
        ]
        buckets.append(("+Inf", float(len(values))))
        family.add_metric([kind], buckets, sum_value=sum(values))
    return family


class MamCollector(Collector):
    """Collect the library's metrics from the database, the broker and the fixity log."""

    def __init__(self, runtime: Runtime, session: Session) -> None:
        self.runtime = runtime
        # The caller's session: on SQLite a second one would wait for its write lock.
        self.session = session

    def collect(self) -> Iterator[Metric]:
        yield from self._jobs(self.session)
        yield from self._bytes(self.session)
        yield from self._fixity(self.session)
        yield self._queue_depth()

    def _jobs(self, session: Session) -> Iterator[Metric]:
        jobs = GaugeMetricFamily(
            "mam_jobs", "Processing jobs by state and queue.", labels=["state", "queue"]
        )
        counts = dict(
            session.execute(select(Job.state, func.count(Job.id)).group_by(Job.state)).all()
        )
        for state in JobState:
            jobs.add_metric([state.value, "transcode"], float(counts.get(state, 0)))
        yield jobs
        rows = session.execute(
            select(Job.kind, Job.state, Job.created_at, Job.started_at, Job.finished_at,
                   Job.last_error)
        ).all()  # fmt: skip
        run: dict[str, list[float]] = {}
        wait: dict[str, list[float]] = {}
        failures = CounterMetricFamily(
            "mam_job_failures", "Jobs failed for good, by error code.", labels=["code"]
        )
        by_code: dict[str, int] = {}
        for kind, state, created, started, finished, error in rows:
            if state in (JobState.SUCCEEDED, JobState.FAILED):
                took = _seconds(started, finished)
                if took is not None:
                    run.setdefault(kind.value, []).append(took)
            waited = _seconds(created, started)
            if waited is not None:
                wait.setdefault(kind.value, []).append(waited)
            if state == JobState.FAILED:
                code = failure_code(error)
                by_code[code] = by_code.get(code, 0) + 1
        for code, n in sorted(by_code.items()):
            failures.add_metric([code], float(n))
        yield failures
        yield _histogram(
            "mam_job_duration_seconds", "Run time of finished jobs (start to end).", run
        )
        yield _histogram(
            "mam_job_queue_wait_seconds", "Time jobs waited before a worker took them.", wait
        )

    def _bytes(self, session: Session) -> Iterator[Metric]:
        uploaded = CounterMetricFamily(
            "mam_uploaded_bytes", "Bytes received by resumable uploads."
        )
        uploaded.add_metric([], float(session.scalar(select(func.sum(UploadSession.offset))) or 0))
        yield uploaded
        downloads = CounterMetricFamily(
            "mam_package_downloads", "Package downloads started by counties."
        )
        downloads.add_metric([], float(session.scalar(select(func.count(Download.id))) or 0))
        yield downloads
        # Packages stream through the web app on every backend, so each byte is counted.
        downloaded = CounterMetricFamily(
            "mam_downloaded_bytes", "Bytes of release packages the web app sent to counties."
        )
        downloaded.add_metric([], float(session.scalar(select(func.sum(Download.bytes_sent))) or 0))
        yield downloaded
        used = GaugeMetricFamily(
            "mam_storage_used_bytes", "Bytes kept in storage, by kind of object.", labels=["kind"]
        )
        for kind, column in (
            ("originals", Asset.size),
            ("renditions", Rendition.size),
            ("packages", ReleasePackage.size),
        ):
            used.add_metric([kind], float(session.scalar(select(func.sum(column))) or 0))
        yield used

    def _fixity(self, session: Session) -> Iterator[Metric]:

        checks = CounterMetricFamily(
            "mam_fixity_checks", "Fixity checks of stored objects, by result.", labels=["result"]
        )
        for result, n in session.execute(
            select(FixityCheck.result, func.count(FixityCheck.id)).group_by(FixityCheck.result)
        ).all():
            checks.add_metric([str(result)], float(n))
        yield checks
        damaged = GaugeMetricFamily(
            "mam_fixity_damaged_objects", "Stored objects found changed or missing."
        )
        damaged.add_metric([], float(session.scalar(
            select(func.count()).select_from(FixityObject).where(FixityObject.damaged.is_(True))
        ) or 0))  # fmt: skip
        yield damaged

    def _queue_depth(self) -> Metric:
        depth = GaugeMetricFamily(
            "mam_queue_depth", "Messages waiting in the broker, by queue.", labels=["queue"]
        )
        for queue, n in queue_depths(self.runtime).items():
            depth.add_metric([queue], float(n))
        return depth


def queue_depths(runtime: Runtime) -> dict[str, int]:
    """Return how many messages wait in each queue (empty when the broker does not answer)."""
    settings = runtime.settings
    try:
        if settings.embedded_broker:
            folder = Path(settings.broker_dir or settings.home / "broker") / "queue"
            names = [p.name for p in folder.glob("*.msg")] if folder.is_dir() else []
            return {q: sum(1 for n in names if f".{q}." in n) for q in QUEUES}
        import redis  # noqa: PLC0415

        client: Any = redis.Redis.from_url(settings.broker_url, socket_timeout=3)
        try:
            return {q: int(client.llen(q)) for q in QUEUES}
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - a broker that cannot be asked has no depth to show
        return {}
