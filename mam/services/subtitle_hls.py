"""WebVTT subtitles as an HLS rendition: the subtitle playlist and its one segment.

A film's subtitles are one WebVTT segment covering the whole film, listed by a subtitle
media playlist; the master lists that playlist with ``#EXT-X-MEDIA:TYPE=SUBTITLES`` (group
``subs``) and each variant names the group (``web.hls``). The segment carries
``X-TIMESTAMP-MAP`` so players align cue times with the MPEG-TS clock of the video: LOCAL
00:00:00.000 (film time 0) is the first presentation timestamp of the first video segment
(ffmpeg's MPEG-TS muxer starts near 1.4 s, not at 0), read from that segment's PES headers.
"""

from __future__ import annotations

import math

GROUP = "subs"
TS_PACKET = 188


def first_pts(data: bytes) -> int | None:
    """Return the lowest PTS (90 kHz) of the audio/video PES packets that start in ``data``."""
    best: int | None = None
    for offset in range(0, len(data) - TS_PACKET + 1, TS_PACKET):
        packet = data[offset : offset + TS_PACKET]
        if packet[0] != 0x47:
            break  # not MPEG-TS (or lost sync): use what was found
        control = (packet[3] >> 4) & 3
        start = 4 + (1 + packet[4] if control in (2, 3) else 0)
        if not packet[1] & 0x40 or control == 2 or start + 14 > TS_PACKET:
            continue
        pes = packet[start:]
        if pes[:3] != b"\x00\x00\x01" or not 0xC0 <= pes[3] <= 0xEF or not pes[7] & 0x80:
            continue
        p = pes[9:14]
        pts = ((p[0] >> 1) & 7) << 30 | p[1] << 22 | (p[2] >> 1) << 15 | p[3] << 7 | p[4] >> 1
        best = pts if best is None else min(best, pts)
    return best


def with_timestamp_map(vtt: str, mpegts: int) -> str:
    """Return ``vtt`` with an X-TIMESTAMP-MAP header mapping film time 0 to ``mpegts``."""
    lines = vtt.split("\n")
    header = f"X-TIMESTAMP-MAP=MPEGTS:{mpegts},LOCAL:00:00:00.000"
    return "\n".join([lines[0], header, *lines[1:]])


def subtitle_playlist(segment_uri: str, duration: float) -> str:
    """Return a VOD media playlist of one WebVTT segment lasting ``duration`` seconds."""
    seconds = max(duration, 0.001)
    return "\n".join(
        [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            f"#EXT-X-TARGETDURATION:{math.ceil(seconds)}",
            "#EXT-X-MEDIA-SEQUENCE:0",
            "#EXT-X-PLAYLIST-TYPE:VOD",
            f"#EXTINF:{seconds:.3f},",
            segment_uri,
            "#EXT-X-ENDLIST",
            "",
        ]
    )
