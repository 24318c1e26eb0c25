"""What people call the distribution profiles, and what a rendition or package really holds.

Each profile of the profiles file (``workers/profiles.toml`` or ``MAM_PROFILES``) may name
itself per language: ``label = { zh_CN = "电视台播出版", en = "TV broadcast" }``; a site
changes the names there. Without one, the shipped English name below is translated by the
catalogue; a profile unknown to both shows its own name.

A label never promises a resolution: the picture size, codec and bitrate shown next to it
are read from what processing actually produced (:func:`describe`).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from mam.i18n import N_, catalogue_locale

SHIPPED = Path(__file__).resolve().parent.parent / "workers" / "profiles.toml"
MAX_LABEL = 60
DEFAULT_LABELS = {
    "broadcast": N_("TV broadcast"),
    "playback": N_("Village playback"),
    "web": N_("Online learning (HLS)"),
    "mobile": N_("Mobile phones"),
    "proxy": N_("Review copy"),
    "playback_hd": N_("Village playback (HD)"),
    "poster": N_("Poster"),
    "thumbnails": N_("Thumbnails"),
    "sprite": N_("Scrub previews"),
}
CODECS = {"h264": "H.264", "hevc": "H.265", "aac": "AAC", "mp3": "MP3", "mpeg2video": "MPEG-2"}


def check_labels(value: Any, where: str) -> dict[str, str]:
    """Return a ``label`` table as {locale: text}; raise ValueError naming ``where``."""
    if isinstance(value, str):
        value = {"en": value}
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected a table such as {{ zh_CN = \"…\", en = \"…\" }}")
    labels: dict[str, str] = {}
    for locale, text in value.items():
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_LABEL:
            raise ValueError(f"{where}.{locale}: expected a name of 1-{MAX_LABEL} characters")
        labels[str(locale)] = text.strip()
    return labels


@functools.cache
def site_labels(path: Path | None = None) -> dict[str, dict[str, str]]:
    """Return {profile: {locale: label}} from the profiles file (empty if it cannot be read:
    the workers refuse a broken file, pages fall back to the shipped names)."""
    try:
        data = tomllib.loads(Path(path or SHIPPED).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    found: dict[str, dict[str, str]] = {}
    tables = {**dict(data.get("profiles") or {}), "poster": data.get("poster") or {}}
    for name, table in tables.items():
        if isinstance(table, Mapping) and "label" in table:
            try:
                found[name] = check_labels(table["label"], f"profiles.{name}.label")
            except ValueError:
                continue
    return found


@functools.cache
def caption_profiles(path: Path | None = None) -> dict[str, tuple[str, ...]]:
    """Return {language: profiles that burn its subtitles in} (``[profiles.X.branding]
    captions``) from the profiles file; empty if it cannot be read."""
    try:
        data = tomllib.loads(Path(path or SHIPPED).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    found: dict[str, list[str]] = {}
    for name, table in dict(data.get("profiles") or {}).items():
        branding = table.get("branding") if isinstance(table, Mapping) else None
        language = branding.get("captions") if isinstance(branding, Mapping) else None
        if isinstance(language, str) and language:
            found.setdefault(language, []).append(str(name))
    return {language: tuple(names) for language, names in found.items()}


def profile_label(
    name: str, locale: str | None, translate: Callable[[str], str], path: Path | None = None
) -> str:
    """Return what ``locale``'s readers call the profile ``name``."""
    labels = site_labels(path).get(name, {})
    wanted = (locale or "").replace("-", "_")
    for key in (wanted, wanted.split("_")[0]):
        if key and key in labels:
            return labels[key]
    if catalogue_locale(locale) is not None:  # a language with a catalogue
        for key, text in labels.items():
            if catalogue_locale(key) == catalogue_locale(locale):
                return text
    if name in DEFAULT_LABELS:
        return translate(DEFAULT_LABELS[name])
    return labels.get("en", name)


def _codec(info: Mapping[str, Any] | None) -> str:
    videos = (info or {}).get("video") or []
    codec = str(videos[0].get("codec") or "") if videos else ""
    return CODECS.get(codec, codec.upper())


def _rate(bit_rate: int | None) -> str:
    if not bit_rate:
        return ""
    if bit_rate >= 1_000_000:
        return f"{bit_rate / 1_000_000:.1f} Mb/s"
    return f"{bit_rate // 1000} kb/s"


def describe(renditions: Iterable[Any]) -> str:
    """Return what renditions hold, read from the files: ``1280×720 H.264 2.5 Mb/s`` (the
    sizes joined with ``/`` when the episodes of a package differ), '' when none is known."""
    sizes: list[str] = []
    codecs: list[str] = []
    rates: list[int] = []
    for r in renditions:
        if r.width and r.height:
            size = f"{r.width}×{r.height}"
            if size not in sizes:
                sizes.append(size)
        codec = _codec(r.media_info)
        if codec and codec not in codecs:
            codecs.append(codec)
        if r.bit_rate:
            rates.append(int(r.bit_rate))
    parts = ["/".join(sizes), "/".join(codecs)]
    if rates and len(sizes) <= 1:
        parts.append(_rate(max(rates)))
    return " ".join(p for p in parts if p)
