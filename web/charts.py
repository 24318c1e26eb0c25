"""Server-rendered SVG charts: geometry computed here, drawn by templates/assessment/_*.html.

No script and no inline style (the CSP allows neither): colours travel as SVG presentation
attributes, tooltips as <title> elements, drill-down as links around the shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import NamedTuple

from markupsafe import Markup

# Sequential green scale (ColorBrewer "Greens", 5 classes) and the cell for "no data".
SCALE = ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c")
EMPTY = "#f0f0f0"
DARK = frozenset(SCALE[3:])  # white text on these
SERIES = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1")


class Cell(NamedTuple):
    """One heatmap cell (a named tuple: five years of 300 counties make 18,000)."""

    x: int
    y: int
    fill: str
    ink: str
    text: str
    title: str
    href: str | None


@dataclass(frozen=True)
class Label:
    x: int
    y: int
    text: str
    href: str | None = None


@dataclass(frozen=True)
class Heatmap:
    width: int
    height: int
    cell_w: int
    cell_h: int
    cells: list[Cell]
    rows: list[Label]
    columns: list[Label]
    legend: list[tuple[int, str, str]]  # x, fill, text

    def cells_markup(self) -> Markup:
        """Return the cells as SVG, built here rather than by a template loop: a five-year
        all-county heatmap has 18,000 cells, and the loop's per-attribute escaping took most
        of the page's time. Titles, texts and links are escaped; the rest are numbers and
        colours of the scale."""
        size = f'" width="{self.cell_w - 2}" height="{self.cell_h - 2}" rx="3" fill="'
        dx, dy = (self.cell_w - 2) // 2, self.cell_h // 2 + 3
        parts = [
            (f'<a href="{escape(c.href)}" data-testid="heat-cell">' if c.href else "")
            + f'<rect x="{c.x}" y="{c.y}{size}{c.fill}"><title>{escape(c.title)}</title></rect>'
            f'<text x="{c.x + dx}" y="{c.y + dy}" text-anchor="middle" fill="{c.ink}" '
            f'class="cell-text">{escape(c.text)}</text>'
            + ("</a>" if c.href else "")
            for c in self.cells
        ]
        return Markup("\n".join(parts))  # noqa: S704 - every text and link escaped above


def colour(value: float | None) -> str:
    """Return the scale's colour for a fraction in [0, 1] (grey without a value)."""
    if value is None:
        return EMPTY
    step = min(len(SCALE) - 1, int(max(0.0, min(1.0, value)) * len(SCALE)))
    return SCALE[step]


def heatmap(
    rows: Sequence[tuple[int, str, str | None]],
    months: Sequence[str],
    cell: Callable[[int, str], tuple[float | None, str, str, str | None]],
    *,
    label_w: int = 120,
    cell_w: int = 44,
    cell_h: int = 24,
) -> Heatmap:
    """Lay out a rows × months grid; ``cell`` gives (fraction, text, tooltip, link)."""
    top = 28
    cells, labels = [], []
    xs = [label_w + c * cell_w for c in range(len(months))]
    ink = {fill: "#ffffff" if fill in DARK else "#1a202c" for fill in (*SCALE, EMPTY)}
    for r, (row_id, name, href) in enumerate(rows):
        y = top + r * cell_h
        labels.append(Label(label_w - 6, y + cell_h // 2 + 4, name, href))
        for x, month in zip(xs, months, strict=True):
            value, text, title, link = cell(row_id, month)
            fill = colour(value)
            cells.append(Cell(x, y, fill, ink[fill], text, title, link))
    columns = [
        Label(label_w + c * cell_w + cell_w // 2, top - 8, m[2:] if len(months) > 12 else m[5:])
        for c, m in enumerate(months)
    ]
    height = top + len(rows) * cell_h + 40
    legend = [
        (label_w + n * 52, fill, f"{int(100 * n / len(SCALE))}%+") for n, fill in enumerate(SCALE)
    ]
    return Heatmap(
        max(label_w + len(months) * cell_w + 8, label_w + len(SCALE) * 52 + 8),
        height,
        cell_w,
        cell_h,
        cells,
        labels,
        columns,
        legend,
    )


@dataclass(frozen=True)
class Series:
    name: str
    stroke: str
    points: str  # "x,y x,y …" for <polyline>
    dots: list[tuple[int, int, str]]  # x, y, tooltip


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    series: list[Series]
    x_labels: list[Label]
    y_labels: list[Label]
    grid: list[int]  # y of the horizontal grid lines
    left: int
    right: int


def nice_ceiling(value: float) -> int:
    """Return a round number at least ``value`` (1, 2, 5 × 10ⁿ), for the y axis."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def line_chart(
    months: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    width: int = 640,
    height: int = 200,
) -> LineChart:
    """Lay out one line per series over the months, on one y axis from 0."""
    left, right, top, bottom = 48, width - 32, 12, height - 28
    top_value = nice_ceiling(max([v for _, values in series for v in values] or [0]))
    step = (right - left) / max(1, len(months) - 1)

    def y_of(v: float) -> int:
        return round(bottom - (bottom - top) * v / top_value)

    out = []
    for n, (name, values) in enumerate(series):
        xy = [(round(left + i * step), y_of(v)) for i, v in enumerate(values)]
        out.append(
            Series(
                name,
                SERIES[n % len(SERIES)],
                " ".join(f"{x},{y}" for x, y in xy),
                [(x, y, f"{months[i]} {name}: {values[i]:g}") for i, (x, y) in enumerate(xy)],
            )
        )
    every = max(1, len(months) // 12)
    x_labels = [
        Label(round(left + i * step), height - 8, m) for i, m in enumerate(months) if i % every == 0
    ]
    ticks = [0, top_value // 2, top_value]
    y_labels = [Label(left - 6, y_of(t) + 4, str(t)) for t in ticks]
    return LineChart(width, height, out, x_labels, y_labels, [y_of(t) for t in ticks], left, right)
