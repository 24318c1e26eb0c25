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
    N_("“%(value)s” is not a source; choose self-produced, imported or general teaching material."),
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
SUBTITLE_SIZE = message("subtitles.too_large", N_("%(file)s: larger than %(limit)s bytes."))
MANIFEST_JSON = message("import.manifest_json", N_("%(file)s, line %(line)s: not valid JSON."))
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
FIELDS_INVALID = message("catalogue.fields_invalid", N_("Some fields are not valid: %(problems)s"))
# One per rule of the manifest check (mam/services/import_rules.py); shown after "line N: ".
IMPORT_UNKNOWN_COLUMNS = message("import.unknown_columns", N_("unknown column(s) %(columns)s"))
IMPORT_EMPTY_CELL = message("import.empty_cell", N_("%(column)s is empty"))
IMPORT_PROGRAMME_UNKNOWN = message(
    "import.programme_unknown",
    N_("unknown programme 《%(programme)s》 (create it first, or use --create-programmes)"),
)
IMPORT_TITLE_TWICE = message(
    "import.title_twice", N_("《%(programme)s》 %(title)s is also on line %(other)s")
)
IMPORT_OUTSIDE = message("import.outside", N_("%(file)s is outside %(folder)s"))
IMPORT_FILE_MISSING = message("import.file_missing", N_("file %(file)s does not exist"))
IMPORT_FILE_TWICE = message("import.file_twice", N_("file %(file)s is also on line %(other)s"))
IMPORT_SAME_CONTENT = message(
    "import.same_content", N_("same content as the file on line %(other)s")
)
IMPORT_SUBTITLE_MISSING = message(
    "import.subtitle_missing", N_("subtitle file %(file)s does not exist")
)
SUBTITLE_LANGUAGE = message(
    "subtitles.language", N_("“%(language)s” is not a language code (for example zh or en).")
)
SUBTITLE_CUES_INVALID = message(
    "subtitles.cues_invalid", N_("The cues sent are not a list of start, end and text.")
)
SUBTITLE_TOO_MANY = message("subtitles.too_many", N_("At most %(limit)s cues."))
SUBTITLE_CUE_EMPTY = message("subtitles.cue_empty", N_("Cue %(n)s has no text."))
SUBTITLE_CUE_TOO_LONG = message(
    "subtitles.cue_too_long", N_("Cue %(n)s is longer than %(limit)s characters.")
)
SUBTITLE_CUE_TIMES = message(
    "subtitles.cue_times", N_("Cue %(n)s: it must end after it starts, and start at 0 or later.")
)
SUBTITLE_CUE_ORDER = message(
    "subtitles.cue_order", N_("Cue %(n)s starts before cue %(prev)s; keep the cues in order.")
)
SUBTITLE_CUE_OVERLAP = message(
    "subtitles.cue_overlap", N_("Cue %(n)s starts before cue %(prev)s ends (at %(end)s).")
)
SUBTITLE_NO_CUE = message("subtitles.no_cue", N_("Choose a cue first."))
SUBTITLE_NOT_INSIDE = message(
    "subtitles.not_inside", N_("The playhead (%(at)s) is not inside cue %(n)s.")
)
SUBTITLE_OPERATION = message("subtitles.operation", N_("Unknown editing operation."))
