"""Read side of the catalogue: what the pages, the API and ``mam show`` display."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mam.errors import NotFound
from mam.messages import catalogue, render_stored
from mam.models import Episode, Job, Programme, Version, VersionState


class CatalogueService:
    """Queries over programmes, episodes and versions."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def programmes(self) -> list[Programme]:
        """Return every programme with its episodes, versions, renditions and jobs loaded."""
        return list(
            self.session.scalars(
                select(Programme)
                .order_by(Programme.name)
                .options(
                    selectinload(Programme.episodes)
                    .selectinload(Episode.versions)
                    .options(selectinload(Version.renditions), selectinload(Version.jobs))
                )
            )
        )

    def episode(self, episode_id: int) -> Episode:
        """Return one episode or raise NotFound."""
        episode = self.session.get(Episode, episode_id)
        if episode is None:
            raise NotFound(catalogue.EPISODE_MISSING, params={"id": episode_id})
        return episode

    def version(self, version_id: int) -> Version:
        """Return one version or raise NotFound."""
        version = self.session.get(Version, version_id)
        if version is None:
            raise NotFound(catalogue.VERSION_MISSING, params={"id": version_id})
        return version

    def jobs(self, *, state: str | None = None, limit: int = 100) -> list[Job]:
        """Return recent jobs, newest first."""
        query = select(Job).order_by(Job.id.desc()).limit(limit)
        if state:
            query = query.where(Job.state == state)
        return list(self.session.scalars(query))


def job_error(job: Job, translate: Callable[[str], str] = str) -> dict[str, Any] | None:
    """Return why ``job`` failed: code, parameters and the message in ``translate``'s language
    (a row from before codes has only its English ``last_error``; its code is null)."""
    if not job.error_code and not job.last_error:
        return None
    params = dict(job.error_params or {})
    return {
        "code": job.error_code,
        "params": params,
        "message": render_stored(job.error_code, params, job.last_error, translate),
        "detail": params.get("detail"),
    }


def job_dict(job: Job, translate: Callable[[str], str] = str) -> dict[str, Any]:
    """Return a job as JSON-able data (its error in ``translate``'s language)."""
    return {
        "id": job.id,
        "version_id": job.version_id,
        "kind": job.kind.value,
        "state": job.state.value,
        "progress": job.progress,
        "eta_seconds": job.eta_seconds,
        "attempts": job.attempts,
        "worker": job.worker,
        "last_error": job.last_error,
        "error": job_error(job, translate),
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def version_failure(version: Version) -> Job | None:
    """Return the failed job that explains a failed version (the newest with an error)."""
    if version.state is not VersionState.FAILED:
        return None
    return next((j for j in reversed(version.jobs) if j.error_code or j.last_error), None)


def version_dict(version: Version, translate: Callable[[str], str] = str) -> dict[str, Any]:
    """Return a version with its media, renditions and jobs as JSON-able data."""
    episode = version.episode
    failed = version_failure(version)
    return {
        "id": version.id,
        "number": version.number,
        "state": version.state.value,
        "failure_reason": version.failure_reason,
        "failure": job_error(failed, translate) if failed else None,
        "episode": {
            "id": episode.id,
            "title": episode.title,
            "programme": episode.programme.name,
            "source_type": episode.source_type.value,
        },
        "original": {
            "sha256": version.asset.sha256,
            "size": version.asset.size,
            "filename": version.asset.original_filename,
            "storage_key": version.asset.storage_key,
        },
        "media_info": version.asset.media_info,
        "renditions": [
            {
                "profile": r.profile,
                "storage_key": r.storage_key,
                "mime_type": r.mime_type,
                "size": r.size,
                "width": r.width,
                "height": r.height,
                "duration": r.duration,
                "bit_rate": r.bit_rate,
            }
            for r in version.renditions
        ],
        "jobs": [job_dict(j, translate) for j in version.jobs],
        "created_at": version.created_at.isoformat(),
    }
