"""What ingest, probing and uploads say about files."""

from __future__ import annotations

from mam.i18n import N_
from mam.messages import message

MISSING = message("media.missing", N_("%(file)s does not exist."))
EMPTY = message("media.empty", N_("%(file)s is empty (0 bytes)."))
NO_STREAMS = message("media.no_streams", N_("%(file)s contains no sound or picture."))
NO_DURATION = message(
    "media.no_duration", N_("%(file)s has no known length (a still image or a broken file?).")
)
UNREADABLE = message(
    "media.unreadable", N_("%(file)s is not a readable audio or video file.")
)
PROBE_TIMEOUT = message(
    "media.probe_timeout",
    N_("%(file)s could not be read: the check did not finish within %(seconds)s s."),
)
PROBE_MISSING = message(
    "media.probe_missing", N_("%(file)s cannot be checked: ffprobe is not installed.")
)
NO_VIDEO = message("media.no_video", N_("%(file)s has no picture to transcode."))
NOT_PROBED = message(
    "media.storage_not_probed", N_("%(file)s: the %(storage)s storage cannot be checked.")
)
NO_SUCH_FILE = message("media.no_such_file", N_("%(file)s: no such file."))
NOT_CATALOGUED = message(
    "media.not_catalogued", N_("%(file)s could not be catalogued; nothing was kept.")
)
DUPLICATE = message(
    "media.duplicate",
    N_(
        "%(filename)s: the same content is already in the library as 《%(programme)s》 "
        "%(title)s, version %(number)s; it was not added again."
    ),
)
UPLOAD_LENGTH = message(
    "upload.length_invalid", N_("The upload length must be a positive number of bytes.")
)
UPLOAD_TOO_LARGE = message(
    "upload.too_large",
    N_("The file is %(size)s bytes; the largest file accepted is %(limit)s bytes."),
)
UPLOAD_GONE = message(
    "upload.gone", N_("No such upload (it expired, was cancelled, or is not yours).")
)
UPLOAD_ENDED = message(
    "upload.ended", N_("This upload was cancelled or has expired; start it again.")
)
UPLOAD_FINISHED = message(
    "upload.not_open", N_("This upload is already finished or failed; start a new one.")
)
UPLOAD_OFFSET = message(
    "upload.offset_mismatch",
    N_("The upload resumed at byte %(offset)s but %(received)s bytes had arrived; try again."),
)
UPLOAD_OVERRUN = message(
    "upload.overrun", N_("More bytes were sent than the upload's announced length.")
)
UPLOAD_LOST = message(
    "upload.lost", N_("The bytes received so far for this upload are gone; start it again.")
)
UPLOAD_NO_SPACE = message(
    "upload.no_space", N_("The server has no room for %(size)s more bytes now; try later.")
)
UPLOAD_NOT_STORED = message(
    "upload.not_stored",
    N_(
        "%(file)s: every byte arrived, but the file could not be stored or catalogued; "
        "nothing was kept, please upload it again."
    ),
)
UPLOAD_DEFER_LENGTH = message(
    "upload.defer_length", N_("Send the length of the file when the upload starts.")
)
NOT_MEDIA = message(
    "upload.not_media", N_("%(file)s is not a video or audio file (%(kind)s).")
)
UPLOAD_BUSY = message(
    "upload.busy", N_("Another request is writing to this upload; try again in a moment.")
)
SOURCE_NO_VIDEO = message("media.source_no_video", N_("The source has no picture to transcode."))
