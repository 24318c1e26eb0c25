"""QC findings (workers/qc.py): each finding stores its code and parameters."""

from __future__ import annotations

from mam.i18n import N_
from mam.messages import message

BLACK = message("qc.black", N_("black picture from %(start)s to %(end)s (%(seconds).1f s)"))
FREEZE = message("qc.freeze", N_("frozen picture from %(start)s to %(end)s (%(seconds).1f s)"))
SILENCE = message("qc.silence", N_("silence from %(start)s to %(end)s (%(seconds).1f s)"))
LOUDNESS_LINEAR = message(
    "qc.loudness_linear",
    N_(
        "%(profiles)s: %(integrated).1f LUFS, true peak %(true_peak).1f dBTP "
        "(target %(target)s, linear normalisation)"
    ),
)
LOUDNESS_DYNAMIC = message(
    "qc.loudness_dynamic",
    N_(
        "%(profiles)s: %(integrated).1f LUFS, true peak %(true_peak).1f dBTP "
        "(target %(target)s, dynamic normalisation)"
    ),
)
LOUDNESS_NONE = message(
    "qc.loudness_unnormalised",
    N_(
        "%(profiles)s: %(integrated).1f LUFS, true peak %(true_peak).1f dBTP "
        "(target %(target)s, no normalisation)"
    ),
)
SILENT_SOUND = message(
    "qc.silent_sound",
    N_("the sound is silent (or too short to measure); it was not normalised"),
)
NO_LOUDNESS = message("qc.no_loudness", N_("no loudness figure for %(profiles)s"))
DECODE_ERRORS_AT = message(
    "qc.decode_errors_at",
    N_(
        "%(count)d error(s) reading or decoding the source, the first near %(at)s: "
        "%(text)s"
    ),
)
DECODE_ERRORS = message(
    "qc.decode_errors", N_("%(count)d error(s) reading or decoding the source")
)
NO_SOUND = message(
    "qc.no_sound", N_("the source has no sound; a silent stereo track was added")
)
OUTPUT_NO_VIDEO = message("qc.output_no_video", N_("%(output)s has no video stream"))
OUTPUT_NO_AUDIO = message("qc.output_no_audio", N_("%(output)s has no audio stream"))
DURATION_GROSS = message(
    "qc.duration_gross",
    N_(
        "%(output)s lasts %(actual).3f s but the source %(expected).3f s "
        "(%(delta)+.3f s); the source may be damaged"
    ),
)
DURATION_OFF = message(
    "qc.duration_off",
    N_(
        "%(output)s lasts %(actual).3f s, the source %(expected).3f s "
        "(%(delta)+.3f s, more than a frame)"
    ),
)
SOUND_EARLY = message(
    "qc.sound_early",
    N_("the sound starts %(seconds).3f s before the picture; the outputs start with "
       "the first picture"),
)
SOUND_LATE = message(
    "qc.sound_late",
    N_("the sound starts %(seconds).3f s after the picture; silence fills the gap"),
)
SOUND_PAST_END = message(
    "qc.sound_past_end",
    N_("the sound runs %(seconds).3f s past the picture; that part is left out"),
)
SOUND_ENDS_EARLY = message(
    "qc.sound_ends_early",
    N_("the sound ends %(seconds).3f s before the picture; silence fills the rest"),
)
EVERY_SHORTER = message(
    "qc.every_shorter",
    N_(
        "every output is shorter than the source (%(actual).3f s against %(expected).3f s); "
        "the source may be damaged"
    ),
)
EVERY_LONGER = message(
    "qc.every_longer",
    N_(
        "every output is longer than the source (%(actual).3f s against %(expected).3f s); "
        "the source may be damaged"
    ),
)
ONE_SHORTER = message(
    "qc.one_shorter",
    N_(
        "%(outputs)s is shorter than the source (%(actual).3f s against %(expected).3f s); "
        "the source may be damaged"
    ),
)
ONE_LONGER = message(
    "qc.one_longer",
    N_(
        "%(outputs)s is longer than the source (%(actual).3f s against %(expected).3f s); "
        "the source may be damaged"
    ),
)
SOME_SHORTER = message(
    "qc.some_shorter",
    N_(
        "%(outputs)s are shorter than the source (%(actual).3f s against %(expected).3f s); "
        "the source may be damaged"
    ),
)
SOME_LONGER = message(
    "qc.some_longer",
    N_(
        "%(outputs)s are longer than the source (%(actual).3f s against %(expected).3f s); "
        "the source may be damaged"
    ),
)
DECODE_COUNT = message("qc.decode_count", N_("%(count)d decode error(s)"))
