"""The SVG chart geometry (pure functions; the pages draw what these return)."""

from __future__ import annotations

from web import charts


def test_colour_scale_steps_and_the_empty_cell() -> None:
    got = [charts.colour(v) for v in (None, 0.0, 0.19, 0.2, 0.59, 0.6, 0.99, 1.0, 1.7)]
    assert got == ["#f0f0f0", "#edf8e9", "#edf8e9", "#bae4b3", "#74c476", "#31a354",
                   "#006d2c", "#006d2c", "#006d2c"]  # fmt: skip


def test_nice_ceiling() -> None:
    got = [charts.nice_ceiling(v) for v in (0, 1, 3, 7, 10, 11, 240, 5001)]
    assert got == [1, 1, 5, 10, 10, 20, 500, 10000]


def test_heatmap_lays_out_rows_by_months() -> None:
    def cell(gid: int, month: str) -> tuple[float | None, str, str, str | None]:
        return (0.5, "3", f"{gid} {month}", f"/x?{gid}") if gid == 1 else (None, "", "", None)

    grid = charts.heatmap([(1, "甲县", "/a"), (2, "乙县", None)], ["2026-03", "2026-04"], cell)
    assert [(c.x, c.y, c.fill, c.text, c.href) for c in grid.cells] == [
        (120, 28, "#74c476", "3", "/x?1"),
        (164, 28, "#74c476", "3", "/x?1"),
        (120, 52, "#f0f0f0", "", None),
        (164, 52, "#f0f0f0", "", None),
    ]
    assert [(r.text, r.href) for r in grid.rows] == [("甲县", "/a"), ("乙县", None)]
    assert [c.text for c in grid.columns] == ["03", "04"]
    assert grid.width == 120 + 5 * 52 + 8  # wide enough for the legend


def test_line_chart_scales_to_a_round_top() -> None:
    chart = charts.line_chart(["2026-01", "2026-02", "2026-03"], [("场次", [0, 4, 8])])
    assert (
        chart.series[0].points == "48,172 328,108 608,44"
    )  # bottom 172, top 12: 8 of 10 is 128 up
    assert [label.text for label in chart.y_labels] == ["0", "5", "10"]


def test_heatmap_cells_are_drawn_escaped() -> None:
    def cell(gid: int, month: str) -> tuple[float | None, str, str, str | None]:
        if gid == 1:
            return 1.0, "<3>", f'"{month}" & <b>', f"/x?county={gid}&month={month}"
        return None, "", "无", None

    grid = charts.heatmap([(1, "甲县", "/a"), (2, "乙县", None)], ["2026-03"], cell)
    svg = str(grid.cells_markup())
    assert svg.split("\n") == [
        '<a href="/x?county=1&amp;month=2026-03" data-testid="heat-cell">'
        '<rect x="120" y="28" width="42" height="22" rx="3" fill="#006d2c">'
        "<title>&quot;2026-03&quot; &amp; &lt;b&gt;</title></rect>"
        '<text x="141" y="43" text-anchor="middle" fill="#ffffff" class="cell-text">'
        "&lt;3&gt;</text></a>",
        '<rect x="120" y="52" width="42" height="22" rx="3" fill="#f0f0f0"><title>无</title>'
        '</rect><text x="141" y="67" text-anchor="middle" fill="#1a202c" class="cell-text">'
        "</text>",
    ]
