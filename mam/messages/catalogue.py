"""What the catalogue says: programmes, episodes, metadata, subtitles, batch import."""

from __future__ import annotations

from mam.i18n import N_
from mam.messages import message

PROGRAMME_MISSING = message(
    "catalogue.programme_missing", N_("The programme 《%(programme)s》 does not exist.")
)
PROGRAMME_EXISTS = message(
    "catalogue.programme_exists", N_("The programme 《%(programme)s》 already exists.")
)
NOT_PRODUCER = message(
    "catalogue.not_producer", N_("%(user)s is not a producer; grant the role first.")
)
EPISODE_MISSING = message("catalogue.episode_missing", N_("Episode %(id)s does not exist."))
VERSION_MISSING = message("catalogue.version_missing", N_("Version %(id)s does not exist."))
SOURCE_INVALID = message(
    "catalogue.source_invalid",
    N_("“%(value)s” is not a source; choose self-produced, imported or general teaching "
       "material."),
)
DATE_INVALID = message(
    "catalogue.date_invalid", N_("%(field)s: “%(value)s” is not a date (use 2026-12-01).")
)
KEYWORDS_LIMIT = message(
    "catalogue.keywords_limit",
    N_("At most %(limit)s keywords of up to 50 characters each."),
)
TOPIC_UNKNOWN = message("catalogue.topic_unknown", N_("Unknown topic: %(topics)s."))
SUBTITLE_ENCODING = message(
    "subtitles.encoding",
    N_("%(file)s: the text is neither UTF-8 nor GBK/GB18030; save it as UTF-8 and try again."),
)
SUBTITLE_EXPECTED_CUE = message(
    "subtitles.expected_cue", N_("%(file)s, line %(line)s: expected a cue number or a timing.")
)
SUBTITLE_BACKWARDS = message(
    "subtitles.cue_backwards", N_("%(file)s, line %(line)s: the cue ends before it starts.")
)
SUBTITLE_EMPTY = message(
    "subtitles.no_cues", N_("%(file)s: no subtitle cues found (expected SRT or WebVTT).")
)
SUBTITLE_KIND = message(
    "subtitles.wrong_kind", N_("%(file)s: subtitles must be .srt or .vtt files.")
)
SUBTITLE_SIZE = message(
    "subtitles.too_large", N_("%(file)s: larger than %(limit)s bytes.")
)
MANIFEST_JSON = message(
    "import.manifest_json", N_("%(file)s, line %(line)s: not valid JSON.")
)
MANIFEST_SHAPE = message(
    "import.manifest_shape",
    N_("%(file)s: expected a list of objects (or an object with a list under “episodes”)."),
)
MANIFEST_COLUMNS = message(
    "import.manifest_columns",
    N_("%(file)s, line 1: missing column(s) %(missing)s (found: %(found)s)."),
)
MANIFEST_PROBLEMS = message(
    "import.manifest_problems", N_("The manifest has problems; nothing was imported.")
)
FIELDS_INVALID = message(
    "catalogue.fields_invalid", N_("Some fields are not valid: %(problems)s")
)
