"""What processing says when a job fails (stored on the Job row as code + parameters)."""

from __future__ import annotations

from mam.i18n import N_
from mam.messages import message

TIME_LIMIT = message(
    "processing.time_limit", N_("Processing exceeded its time limit of %(seconds)s s.")
)
FFMPEG_MISSING = message(
    "processing.ffmpeg_missing", N_("%(program)s is not installed on the worker; install ffmpeg.")
)
FFMPEG_TIMEOUT = message(
    "processing.ffmpeg_timeout",
    N_("Transcoding exceeded the time limit of %(seconds)s s and was stopped."),
)
FFMPEG_STALLED = message(
    "processing.ffmpeg_stalled",
    N_("Transcoding made no progress for %(seconds)s s (a hung input?) and was stopped."),
)
FFMPEG_FAILED = message("processing.ffmpeg_failed", N_("Transcoding failed."))
OUTPUT_MISSING = message("processing.output_missing", N_("The output %(output)s was not written."))
OUTPUT_UNUSABLE = message("processing.output_unusable", N_("The output %(output)s is unusable."))
NO_MASTER = message(
    "processing.hls_no_master", N_("%(profile)s: no master playlist was written.")
)
MASTER_INCOMPLETE = message(
    "processing.hls_master_incomplete",
    N_("%(profile)s: the master playlist does not list every rung."),
)
PLAYLIST_INCOMPLETE = message(
    "processing.hls_playlist_incomplete", N_("%(profile)s/%(rung)s: the playlist is incomplete.")
)
NO_VIDEO = message(
    "processing.no_video",
    N_("%(file)s has no picture; a sound-only file cannot become a film deliverable."),
)
FRAME_SIZE = message(
    "processing.frame_size",
    N_(
        "%(file)s: frames of %(width)s×%(height)s are outside what can be processed "
        "(at most %(side)s pixels a side and %(megapixels)s megapixels); "
        "a damaged or forged header?"
    ),
)
NO_DURATION = message("processing.no_duration", N_("%(file)s: the length is unknown."))
QC_FAILED = message("processing.qc_failed", N_("QC: %(reason)s"))
UNEXPECTED = message(
    "processing.unexpected",
    N_("Processing stopped on an unexpected error (storage or database); it will be retried."),
)
PROFILES_CHANGED = message(
    "processing.profiles_changed",
    N_("The distribution profiles changed while processing; it will be retried."),
)
JOB_MISSING = message("processing.job_missing", N_("Job %(id)s does not exist."))
JOB_NOT_FAILED = message(
    "processing.retry_not_failed", N_("Only failed jobs can be retried; job %(id)s has not failed.")
)
WORKER_GONE = message(
    "processing.worker_gone",
    N_(
        "The worker stopped %(attempts)s times while processing this version "
        "(stopped at the time limit or out of memory?)."
    ),
)
