"""The renditions made for every version (the full distribution ladder comes from profiles)."""

from __future__ import annotations

from workers.ffmpeg.commands import Mp4Rendition, PosterSpec

# The review copy: at most 540 lines, H.264/AAC, faststart (small enough for township links).
PROXY = Mp4Rendition(
    name="proxy",
    max_height=540,
    video_bitrate="1200k",
    maxrate="1800k",
    bufsize="2400k",
    audio_bitrate="128k",
    h264_profile="main",
)

POSTER = PosterSpec(name="poster.jpg", max_height=540)
