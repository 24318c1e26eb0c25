"""Subtitles saved after processing reach the renditions that burn them in.

A profile may burn one language's subtitles into its picture (``captions = "zh"`` in the
profiles file: the ``playback`` MP4 for village TV sets). Those renditions are made from the
subtitles current when the run began. When a new revision of that language becomes what
a processed version plays (``current_subtitles``: the version's own row, else the
episode's), its burned renditions are stale: the version's distribution ladder is queued
again (a ``ladder`` job through the outbox, with progress on the jobs page; it re-reads the
current subtitles when it begins and replaces the ladder's renditions, the review copy
stays). Until it succeeds the version is not distributable: adding it to a release set or
publishing one refuses with ``release.ladder_pending`` (translated), so no package is built
from a rendition without the new subtitles.

Not queued: a version still to be processed or whose process or ladder job has not begun
(it reads the new revision anyway), one whose renditions burn nothing in that language, and
one outside the ladder's states (sent back or superseded). A released episode's subtitles
cannot change at all (``edit_rights``), so a published set's packages stay as built.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mam.audit import AuditAction, ObjectType, record
from mam.models import Episode, Job, JobKind, JobState, User, Version
from mam.models.catalogue import Subtitle
from mam.profile_labels import caption_profiles
from mam.services.ladder import LadderService, queue_ladder
from mam.services.subtitles import current_subtitle

NOT_BEGUN = (JobState.QUEUED, JobState.WAITING)


def reburn_subtitles(
    session: Session, row: Subtitle, actor: User | None, profiles: Path | None = None
) -> list[Job]:
    """Queue the ladder again for each processed version whose burned-in renditions the
    new current subtitle ``row`` makes stale; return the jobs (sent after the commit)."""
    burners = caption_profiles(profiles).get(row.language, ())
    if not burners:
        return []
    if row.version_id is not None:
        versions = [session.get_one(Version, row.version_id)]
    else:
        versions = list(session.get_one(Episode, row.episode_id).versions)
    jobs = []
    for version in versions:
        if version.state not in LadderService.runs_in:
            continue
        if current_subtitle(session, version, row.language) is not row:
            continue  # the version plays its own row of that language
        stale = [p for p in burners if version.rendition(p) is not None]
        if not stale or _not_begun(session, version):
            continue
        job = queue_ladder(session, version, hold=False)
        record(
            session, AuditAction.SUBTITLES_REBURN, actor, ObjectType.VERSION, version.id,
            details={"language": row.language, "subtitle_id": row.id, "revision": row.revision,
                     "profiles": stale, "job_id": job.id},
        )  # fmt: skip
        jobs.append(job)
    return jobs


def _not_begun(session: Session, version: Version) -> bool:
    """Say whether a run of the version is still to begin (it reads the current rows)."""
    return (
        session.scalar(
            select(Job.id)
            .where(
                Job.version_id == version.id,
                Job.kind.in_([JobKind.PROCESS, JobKind.LADDER]),
                Job.state.in_(NOT_BEGUN),
            )
            .limit(1)
        )
        is not None
    )
