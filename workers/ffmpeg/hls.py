"""Read the HLS playlists ffmpeg wrote (pure): variants of a master, segments of a rung."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


@dataclass(frozen=True)
class Variant:
    """One ``#EXT-X-STREAM-INF`` entry of a master playlist."""

    uri: str
    bandwidth: int
    width: int | None
    height: int | None
    codecs: str | None


@dataclass(frozen=True)
class MediaSegment:
    """One segment of a media playlist."""

    uri: str
    duration: float


def parse_master(text: str) -> list[Variant]:
    """Return the variants of a master playlist, in order."""
    variants: list[Variant] = []
    attributes: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#EXT-X-STREAM-INF:"):
            attributes = {k: v.strip('"') for k, v in _ATTRIBUTE.findall(line.split(":", 1)[1])}
        elif line and not line.startswith("#") and attributes is not None:
            width = height = None
            if "x" in attributes.get("RESOLUTION", ""):
                w, h = attributes["RESOLUTION"].split("x", 1)
                width, height = int(w), int(h)
            variants.append(
                Variant(
                    line,
                    int(attributes.get("BANDWIDTH", "0") or 0),
                    width,
                    height,
                    attributes.get("CODECS"),
                )
            )
            attributes = None
    return variants


def parse_media(text: str) -> list[MediaSegment]:
    """Return the segments of a media playlist, in order."""
    segments: list[MediaSegment] = []
    duration: float | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#EXTINF:"):
            duration = float(line.split(":", 1)[1].split(",", 1)[0])
        elif line and not line.startswith("#") and duration is not None:
            segments.append(MediaSegment(line, duration))
            duration = None
    return segments


def is_complete(text: str) -> bool:
    """Return True when a media playlist is finished (``#EXT-X-ENDLIST``)."""
    return any(line.strip() == "#EXT-X-ENDLIST" for line in text.splitlines())
