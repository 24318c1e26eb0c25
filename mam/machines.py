"""The transition tables of processing jobs, uploads, release sets and release packages.

Each table is applied by :class:`mam.statemachine.StateMachine` (the version workflow's
table is in :mod:`mam.workflow`). ``docs/architecture.md`` shows them as tables; the tests
in ``tests/mam/test_machines.py`` write them out literally.
"""

from __future__ import annotations

import enum
from typing import Any

from mam.audit import AuditAction, ObjectType
from mam.models import JobState, Role
from mam.models.catalogue import UploadState
from mam.models.release import PackageState, ReleaseState
from mam.statemachine import StateMachine, rule
from mam.workflow import VERSION

SYSTEM, ADMIN, PUBLISHER = Role.SYSTEM, Role.ADMIN, Role.PUBLISHER
A = AuditAction


class JobEvent(enum.StrEnum):
    START = A.JOB_STARTED.value
    SUCCEED = A.JOB_SUCCEEDED.value
    SKIP = A.JOB_SKIPPED.value  # the version no longer needs processing
    REQUEUE = A.JOB_REQUEUED.value  # an attempt failed and may be retried, or its worker died
    FAIL = A.JOB_FAILED.value  # given up for good
    RETRY = A.JOB_RETRIED.value  # an admin queues a failed job again
    HOLD = A.JOB_HELD.value  # a new ladder waits for its version's approval
    RELEASE = A.JOB_RELEASED.value  # a ladder held for approval goes to the workers


J = JobState
JOB: StateMachine[JobState, JobEvent] = StateMachine(
    ObjectType.JOB,
    {
        (J.QUEUED, JobEvent.START): rule(J.RUNNING, SYSTEM),
        # A redelivered task (its worker was lost) starts the running job again.
        (J.RUNNING, JobEvent.START): rule(J.RUNNING, SYSTEM),
        (J.RUNNING, JobEvent.SUCCEED): rule(J.SUCCEEDED, SYSTEM),
        (J.QUEUED, JobEvent.SKIP): rule(J.SKIPPED, SYSTEM),
        (J.RUNNING, JobEvent.SKIP): rule(J.SKIPPED, SYSTEM),
        (J.RUNNING, JobEvent.REQUEUE): rule(J.QUEUED, SYSTEM),
        # Given up before a start (every attempt so far killed) or after a failed one.
        (J.QUEUED, JobEvent.FAIL): rule(J.FAILED, SYSTEM, needs_reason=True),
        (J.RUNNING, JobEvent.FAIL): rule(J.FAILED, SYSTEM, needs_reason=True),
        (J.FAILED, JobEvent.RETRY): rule(J.QUEUED, ADMIN),
        # A distribution ladder held until its version is approved (MAM_LADDER_AFTER_APPROVAL).
        (J.QUEUED, JobEvent.HOLD): rule(J.WAITING, SYSTEM),
        (J.WAITING, JobEvent.RELEASE): rule(J.QUEUED, SYSTEM),
        (J.WAITING, JobEvent.SKIP): rule(J.SKIPPED, SYSTEM),
    },
)


class UploadEvent(enum.StrEnum):
    COMPLETE = A.UPLOAD_COMPLETED.value  # every byte arrived and was ingested as a version
    REFUSE = A.UPLOAD_REFUSED.value  # every byte arrived but the file was refused
    CANCEL = A.UPLOAD_CANCELLED.value  # the client terminated it
    EXPIRE = A.UPLOAD_EXPIRED.value  # abandoned past its expiry


U = UploadState
UPLOAD: StateMachine[UploadState, UploadEvent] = StateMachine(
    ObjectType.UPLOAD,
    {
        # The uploader is a producer or an admin; the ingest checks what they may add to.
        (U.OPEN, UploadEvent.COMPLETE): rule(U.DONE, Role.PRODUCER, ADMIN),
        (U.OPEN, UploadEvent.REFUSE): rule(U.FAILED, Role.PRODUCER, ADMIN, needs_reason=True),
        (U.OPEN, UploadEvent.CANCEL): rule(U.CANCELLED, Role.PRODUCER, ADMIN),
        (U.OPEN, UploadEvent.EXPIRE): rule(U.EXPIRED, SYSTEM),
    },
)


class ReleaseEvent(enum.StrEnum):
    PUBLISH = A.RELEASE_PUBLISHED.value
    WITHDRAW = A.RELEASE_WITHDRAWN.value


R = ReleaseState
RELEASE: StateMachine[ReleaseState, ReleaseEvent] = StateMachine(
    ObjectType.RELEASE_SET,
    {
        (R.DRAFT, ReleaseEvent.PUBLISH): rule(R.PUBLISHED, PUBLISHER, ADMIN),
        # system: the licence sweep withdraws a set holding an episode whose licence ended
        (R.PUBLISHED, ReleaseEvent.WITHDRAW): rule(
            R.WITHDRAWN, PUBLISHER, ADMIN, SYSTEM, needs_reason=True
        ),
    },
)


class PackageEvent(enum.StrEnum):
    START_BUILD = A.PACKAGE_BUILD_STARTED.value
    BUILT = A.PACKAGE_BUILT.value
    BUILD_FAILED = A.PACKAGE_BUILD_FAILED.value
    REBUILD = A.PACKAGE_REBUILD.value  # a publisher queues a failed or stuck build again
    REQUEUE = A.PACKAGE_REQUEUED.value  # the reconciler: its worker died (lease expired)


P = PackageState
PACKAGE: StateMachine[PackageState, PackageEvent] = StateMachine(
    ObjectType.PACKAGE,
    {
        (P.QUEUED, PackageEvent.START_BUILD): rule(P.BUILDING, SYSTEM),
        # A redelivered build (its worker was lost) or a retry after a failure starts again.
        (P.BUILDING, PackageEvent.START_BUILD): rule(P.BUILDING, SYSTEM),
        (P.FAILED, PackageEvent.START_BUILD): rule(P.BUILDING, SYSTEM),
        (P.BUILDING, PackageEvent.BUILT): rule(P.READY, SYSTEM),
        (P.BUILDING, PackageEvent.BUILD_FAILED): rule(P.FAILED, SYSTEM, needs_reason=True),
        (P.FAILED, PackageEvent.REBUILD): rule(P.QUEUED, PUBLISHER, ADMIN),
        (P.BUILDING, PackageEvent.REBUILD): rule(P.QUEUED, PUBLISHER, ADMIN),  # stuck
        (P.QUEUED, PackageEvent.REBUILD): rule(P.QUEUED, PUBLISHER, ADMIN),  # lost task
        (P.BUILDING, PackageEvent.REQUEUE): rule(P.QUEUED, SYSTEM),
    },
)


def machine_for(obj: object) -> StateMachine[Any, Any]:
    """Return the state machine of a stateful row (a version, job, upload, set or package)."""
    return MACHINES[type(obj).__name__]


MACHINES: dict[str, StateMachine[Any, Any]] = {
    "Version": VERSION,
    "Job": JOB,
    "UploadSession": UPLOAD,
    "ReleaseSet": RELEASE,
    "ReleasePackage": PACKAGE,
}
