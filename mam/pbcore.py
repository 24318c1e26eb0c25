"""PBCore 2.1 description documents for the episodes in a release package."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from mam.exports import xml_document

NS = "http://www.pbcore.org/PBCore/PBCoreNamespace.html"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA = "https://raw.githubusercontent.com/WGBH/PBCore_2.1/master/pbcore-2.1.xsd"
ET.register_namespace("", NS)
ET.register_namespace("xsi", XSI)


@dataclass(frozen=True)
class FileEntry:
    """One file of an episode inside the package."""

    location: str  # path inside the bag, e.g. data/01-标题/broadcast.mp4
    mime_type: str
    size: int
    media_info: dict[str, Any]  # mam.probe.MediaInfo.to_dict(), or {} for images/text


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, f"{{{NS}}}{tag}", attrs)
    if text is not None:
        node.text = text
    return node


def duration_text(seconds: float) -> str:
    """Format seconds as PBCore's HH:MM:SS.ss."""
    hours, rest = divmod(max(seconds, 0.0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours):02d}:{int(minutes):02d}:{secs:05.2f}"


def _media_type(mime: str) -> str:
    if mime.startswith("video/") or mime in ("application/vnd.apple.mpegurl",
                                              "application/x-mpegurl"):
        return "Moving Image"
    if mime.startswith("image/"):
        return "Static Image"
    if mime.startswith("audio/"):
        return "Sound"
    return "Text"


def _instantiation(doc: ET.Element, entry: FileEntry) -> None:
    inst = _el(doc, "pbcoreInstantiation")
    _el(inst, "instantiationIdentifier", entry.location.rsplit("/", 1)[-1], source="filename")
    video = (entry.media_info.get("video") or [None])[0]
    audio = entry.media_info.get("audio") or []
    if video:
        _el(inst, "instantiationDimensions", f"{video['width']}x{video['height']}",
            unitsOfMeasure="pixels")
    _el(inst, "instantiationDigital", entry.mime_type)
    _el(inst, "instantiationLocation", entry.location)
    _el(inst, "instantiationMediaType", _media_type(entry.mime_type))
    _el(inst, "instantiationGenerations", "Distribution")
    _el(inst, "instantiationFileSize", str(entry.size), unitsOfMeasure="bytes")
    if entry.media_info.get("duration"):
        _el(inst, "instantiationDuration", duration_text(float(entry.media_info["duration"])))
    if entry.media_info.get("bit_rate"):
        _el(inst, "instantiationDataRate", str(entry.media_info["bit_rate"]),
            unitsOfMeasure="bits/second")
    tracks = ([video] if video else []) + list(audio)
    if tracks:
        _el(inst, "instantiationTracks", str(len(tracks)))
    if video:
        track = _el(inst, "instantiationEssenceTrack")
        _el(track, "essenceTrackType", "Video")
        _el(track, "essenceTrackEncoding", str(video.get("codec", "")))
        _el(track, "essenceTrackFrameRate", str(video.get("frame_rate", "")))
        _el(track, "essenceTrackFrameSize", f"{video['width']}x{video['height']}")
        _el(track, "essenceTrackAspectRatio", str(video.get("dar", "")))
    for stream in audio:
        track = _el(inst, "instantiationEssenceTrack")
        _el(track, "essenceTrackType", "Audio")
        _el(track, "essenceTrackEncoding", str(stream.get("codec", "")))
        _el(track, "essenceTrackSamplingRate", str(stream.get("sample_rate", "")),
            unitsOfMeasure="Hz")
        _el(track, "essenceTrackAnnotation", f"{stream.get('channels', '')} channels")


def episode_document(
    *, identifier: str, organization: str, series: str, episode: str, description: str,
    rights: str, sha256: str, files: list[FileEntry], subjects: list[str] | None = None,
) -> bytes:
    """Return a PBCore 2.1 pbcoreDescriptionDocument (UTF-8 XML) for one episode."""
    doc = ET.Element(f"{{{NS}}}pbcoreDescriptionDocument",
                     {f"{{{XSI}}}schemaLocation": f"{NS} {SCHEMA}"})
    _el(doc, "pbcoreIdentifier", identifier, source=organization)
    _el(doc, "pbcoreIdentifier", sha256, source="SHA-256 of the approved original")
    _el(doc, "pbcoreTitle", series, titleType="Series")
    _el(doc, "pbcoreTitle", episode, titleType="Episode")
    for subject in subjects or []:
        _el(doc, "pbcoreSubject", subject)
    _el(doc, "pbcoreDescription", description or episode, descriptionType="Abstract")
    _el(doc, "pbcorePublisher").append(_publisher(organization))
    rights_node = _el(doc, "pbcoreRightsSummary")
    _el(rights_node, "rightsSummary", rights)
    for entry in files:
        _instantiation(doc, entry)
    return xml_document(doc)


def _publisher(organization: str) -> ET.Element:
    node = ET.Element(f"{{{NS}}}publisher")
    node.text = organization
    return node
