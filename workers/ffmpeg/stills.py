"""Still images after the one decode: sprite sheets, the poster, the WebVTT track.

The evenly spaced thumbnails come straight out of the one decode (see ``commands``).
They are not taken by input seeking (``-ss`` before ``-i``, one input per thumbnail):
with this ffmpeg each such input costs a probe of the source plus up to a GOP of
decoding (about 0.35 s of CPU per thumbnail of a 1080p source, ten of them more than
the sprite, poster and analysis together), while a ``select`` on the decode already
running costs nothing and is exact to the frame.

One small ffmpeg run (``build_stills_command``) makes

* the sprite sheets, tiling the cells the one decode wrote (``tile``);
* the poster: of the candidates the one decode wrote, black and blank frames (low
  luma entropy) are dropped and ffmpeg's ``thumbnail`` filter picks the most
  representative of the rest.  When every candidate is blank there is no poster
  file; the pipeline then takes a candidate as it is.

``webvtt_thumbnails`` writes the scrub-preview track pointing into the sheets.
Everything here is pure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg

from workers.ffmpeg.plan import CANDIDATES, CELLS, EncodePlan

STILLS_ARGS = ("-hide_banner", "-nostats", "-loglevel", "level+warning", "-y")
THUMBS = "thumbs"
POSTER = "poster.jpg"
VTT = "thumbnails.vtt"
ENTROPY_KEY = "lavfi.entropy.normalized_entropy.normal.Y"


@dataclass(frozen=True)
class SpriteLayout:
    """How ``cells`` cells are laid out on sheets of ``columns`` x ``rows``."""

    cells: int
    columns: int
    rows: int
    cell_width: int
    cell_height: int
    interval: float

    @property
    def per_sheet(self) -> int:
        return self.columns * self.rows

    @property
    def sheets(self) -> int:
        return math.ceil(self.cells / self.per_sheet) if self.cells else 0

    def sheet_name(self, index: int) -> str:
        """Return the file name of sheet ``index`` (0-based), as ffmpeg numbers them."""
        return f"sprite-{index + 1:03d}.jpg"

    def to_dict(self) -> dict[str, Any]:
        return {
            "cells": self.cells,
            "columns": self.columns,
            "rows": self.rows,
            "cell_width": self.cell_width,
            "cell_height": self.cell_height,
            "interval": self.interval,
            "sheets": self.sheets,
        }


def sprite_layout(plan: EncodePlan, cells: int) -> SpriteLayout | None:
    """Return the sheet layout for ``cells`` cells (a single sheet shrinks to fit them)."""
    if plan.sprite is None or plan.cell_size is None or cells <= 0:
        return None
    columns, rows = plan.sprite.columns, plan.sprite.rows
    if cells < columns * rows:
        columns = min(columns, cells)
        rows = math.ceil(cells / columns)
    return SpriteLayout(cells, columns, rows, *plan.cell_size, plan.sprite_interval)


def thumbnail_name(index: int) -> str:
    """Return the file name of thumbnail ``index`` (0-based)."""
    return f"thumb-{index + 1:02d}.jpg"


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def webvtt_thumbnails(layout: SpriteLayout, duration: float) -> str:
    """Return a WebVTT track whose cues point at sprite cells (``sheet.jpg#xywh=x,y,w,h``)."""
    lines = ["WEBVTT", ""]
    for i in range(layout.cells):
        start = i * layout.interval
        if start >= duration and i:
            break
        end = duration if i == layout.cells - 1 else min((i + 1) * layout.interval, duration)
        sheet, position = divmod(i, layout.per_sheet)
        row, column = divmod(position, layout.columns)
        x, y = column * layout.cell_width, row * layout.cell_height
        lines += [
            f"{_timestamp(start)} --> {_timestamp(max(end, start + 0.001))}",
            f"{layout.sheet_name(sheet)}#xywh={x},{y},{layout.cell_width},{layout.cell_height}",
            "",
        ]
    return "\n".join(lines)


def build_stills_command(
    outdir: str, plan: EncodePlan, *, layout: SpriteLayout | None, candidates: int
) -> list[str] | None:
    """Return the argv making the sprite sheets and the poster; None if nothing to do."""
    out = Path(outdir)
    outputs = []
    if layout is not None:
        cells = ffmpeg.input(str(out / CELLS / "%05d.jpg"), framerate=1, format="image2")
        sheets = cells.filter("tile", f"{layout.columns}x{layout.rows}")
        outputs.append(
            ffmpeg.output(sheets, str(out / THUMBS / "sprite-%03d.jpg"), format="image2",
                          fps_mode="vfr", **{"q:v": 4})
        )  # fmt: skip
    if plan.poster is not None and candidates > 0:
        first = 2 if candidates > 1 else 1  # number 1 is the film's first frame
        picks = ffmpeg.input(str(out / CANDIDATES / "%03d.jpg"), framerate=1,
                             format="image2", start_number=first)  # fmt: skip
        poster = (
            picks.filter("entropy")
            .filter("metadata", mode="select", key=ENTROPY_KEY,
                    value=f"{plan.poster.min_entropy:g}", function="greater")
            .filter("thumbnail", n=candidates)
        )  # fmt: skip
        outputs.append(
            ffmpeg.output(poster, str(out / THUMBS / POSTER), format="image2", update=1,
                          **{"frames:v": 1, "q:v": 2})
        )  # fmt: skip
    if not outputs:
        return None
    argv: list[str] = ffmpeg.merge_outputs(*outputs).compile()
    return [argv[0], *STILLS_ARGS, *argv[1:]]
