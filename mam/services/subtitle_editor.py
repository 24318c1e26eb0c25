"""The timed subtitle editor beside the review player: operations and saving.

The page keeps the cue list; each operation (add at the playhead, split at the playhead,
shift, set in/out from the playhead, delete) is sent here with the list and answered with
the new list, so the rules live in one tested place and the page script stays small. Times
are frame-accurate at the version's frame rate (``version_fps``, from the probe of its
review copy): a time taken from the playhead is the start of the frame shown (the review
player shows frame ``floor(t × fps)``); a time typed or shifted is rounded to the nearest
frame; an out point set from the playhead includes the frame shown.

Saving (``SubtitleEditor.save``) checks the whole list and refuses, naming the cue: no text,
more than ``MAX_TEXT`` characters, an end not after its start, a start before 0, a cue that
starts before the one above it (order), or before it ends (overlap: cues do not overlap,
so a village screen never stacks two lines of different speakers). Each save stores a new
revision (the previous one is kept, no longer current) and is audited.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mam.audit import AuditAction, ObjectType, record
from mam.errors import InvalidInput
from mam.messages import catalogue
from mam.models import Job, User, Version
from mam.models.catalogue import Subtitle
from mam.services.comments import version_fps
from mam.services.edit_rights import require_episode_change
from mam.services.subtitle_burn import reburn_subtitles
from mam.services.subtitles import Cue, normalise_language, store_subtitles
from storage import Storage

MAX_CUES = 5000
MAX_TEXT = 500
ADD_SECONDS = 2.0  # length of a cue added at the playhead (shortened to fit before the next)
_TIME = re.compile(r"^(?:(\d{1,2}):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?$")
OPERATIONS = ("add", "split", "shift", "set_in", "set_out", "delete")


def frame_at(seconds: float, fps: float) -> float:
    """Return the start (seconds, to the ms) of the frame shown at ``seconds``."""
    return round(math.floor(seconds * fps + 1e-3) / fps, 3)


def snap(seconds: float, fps: float) -> float:
    """Return ``seconds`` rounded to the nearest frame boundary, halves up (to the ms)."""
    return round(math.floor(seconds * fps + 0.5 + 1e-6) / fps, 3)


def stamp(seconds: float) -> str:
    """Format seconds as HH:MM:SS.mmm (how the editor shows times)."""
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _seconds(value: Any, n: int) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    match = _TIME.match(str(value).strip()) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(catalogue.SUBTITLE_CUE_TIMES, params={"n": n})
    h, m, s, ms = match.groups()
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int((ms or "0").ljust(3, "0")) / 1000


def parse_cues(raw: Any) -> list[Cue]:
    """Read the cue list a page sent: [{"start", "end", "text"}, ...] (seconds or HH:MM:SS.mmm)."""
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        raise InvalidInput(catalogue.SUBTITLE_CUES_INVALID)
    if len(raw) > MAX_CUES:
        raise InvalidInput(catalogue.SUBTITLE_TOO_MANY, params={"limit": MAX_CUES})
    cues = []
    for n, item in enumerate(raw, start=1):
        text = item.get("text", "")
        if not isinstance(text, str):
            raise InvalidInput(catalogue.SUBTITLE_CUES_INVALID)
        cues.append(Cue(_seconds(item.get("start"), n), _seconds(item.get("end"), n), text))
    return cues


def _one(cues: Sequence[Cue], selected: Sequence[int]) -> int:
    if len(selected) != 1 or not 0 <= selected[0] < len(cues):
        raise InvalidInput(catalogue.SUBTITLE_NO_CUE)
    return selected[0]


def _checked(start: float, end: float, n: int) -> tuple[float, float]:
    if start < 0 or end <= start:
        raise InvalidInput(catalogue.SUBTITLE_CUE_TIMES, params={"n": n})
    return start, end


def apply(
    operation: str,
    cues: Sequence[Cue],
    *,
    fps: float,
    at: float = 0.0,
    selected: Sequence[int] = (),
    ms: int = 0,
) -> list[Cue]:
    """Return the cue list after one editing ``operation`` (see ``OPERATIONS``)."""
    out = list(cues)
    here = frame_at(max(at, 0.0), fps)
    if operation == "add":
        following = [c.start for c in out if c.start > here]
        end = snap(here + ADD_SECONDS, fps)
        if following and min(following) < end:
            end = max(min(following), snap(here + 1 / fps, fps))
        out.append(Cue(here, end, ""))
        out.sort(key=lambda c: (c.start, c.end))
    elif operation == "split":
        i = _one(out, selected)
        cue = out[i]
        if not cue.start < here < cue.end:
            raise InvalidInput(
                catalogue.SUBTITLE_NOT_INSIDE, params={"at": stamp(here), "n": i + 1}
            )
        out[i : i + 1] = [Cue(cue.start, here, cue.text), Cue(here, cue.end, cue.text)]
    elif operation == "shift":
        chosen = set(selected) if selected else set(range(len(out)))
        delta = ms / 1000
        for i in sorted(chosen):
            if 0 <= i < len(out):
                c = out[i]
                start, end = _checked(snap(c.start + delta, fps), snap(c.end + delta, fps), i + 1)
                out[i] = Cue(start, end, c.text)
    elif operation in ("set_in", "set_out"):
        i = _one(out, selected)
        c = out[i]
        if operation == "set_in":
            out[i] = Cue(*_checked(here, c.end, i + 1), c.text)
        else:
            out[i] = Cue(*_checked(c.start, snap(here + 1 / fps, fps), i + 1), c.text)
    elif operation == "delete":
        drop = set(selected)
        out = [c for i, c in enumerate(out) if i not in drop]
    else:
        raise InvalidInput(catalogue.SUBTITLE_OPERATION)
    return out


def validate(cues: Sequence[Cue], fps: float) -> list[Cue]:
    """Return the cues snapped to frames, or refuse the first bad one (see module doc)."""
    if len(cues) > MAX_CUES:
        raise InvalidInput(catalogue.SUBTITLE_TOO_MANY, params={"limit": MAX_CUES})
    out: list[Cue] = []
    for n, cue in enumerate(cues, start=1):
        text = "\n".join(line.strip() for line in cue.text.strip().splitlines() if line.strip())
        if not text:
            raise InvalidInput(catalogue.SUBTITLE_CUE_EMPTY, params={"n": n})
        if len(text) > MAX_TEXT:
            raise InvalidInput(catalogue.SUBTITLE_CUE_TOO_LONG, params={"n": n, "limit": MAX_TEXT})
        start, end = _checked(snap(cue.start, fps), snap(cue.end, fps), n)
        if out and start < out[-1].start:
            raise InvalidInput(catalogue.SUBTITLE_CUE_ORDER, params={"n": n, "prev": n - 1})
        if out and start < out[-1].end:
            raise InvalidInput(
                catalogue.SUBTITLE_CUE_OVERLAP,
                params={"n": n, "prev": n - 1, "end": stamp(out[-1].end)},
            )
        out.append(Cue(start, end, text))
    return out


class SubtitleEditor:
    """Save the editor's cue list as a new revision of a version's subtitles."""

    def __init__(self, session: Session, storage: Storage, profiles: Path | None = None) -> None:
        self.session = session
        self.storage = storage
        self.profiles = profiles  # the profiles file: which languages are burned in
        self.reburned: list[Job] = []  # the ladder jobs the last save queued

    def save(self, version: Version, language: str, raw: Any, actor: User | None) -> Subtitle:
        """Validate ``raw`` (the page's cue list) and store it; audited. Nothing is committed."""
        episode = version.episode
        require_episode_change(self.session, actor, episode, ["subtitles"])
        code = normalise_language(language)
        cues = validate(parse_cues(raw), version_fps(version))
        if not cues:
            raise InvalidInput(catalogue.SUBTITLE_EMPTY, params={"file": f"{code}.vtt"})
        row = store_subtitles(
            self.session, self.storage, episode, cues,
            language=code, filename=f"{code}.vtt", actor=actor, version=version,
        )  # fmt: skip
        record(
            self.session, AuditAction.EDIT_SUBTITLE, actor, ObjectType.VERSION, version.id,
            details={"language": code, "cues": len(cues), "revision": row.revision},
        )  # fmt: skip
        self.reburned = reburn_subtitles(self.session, row, actor, self.profiles)
        self.session.flush()
        return row
