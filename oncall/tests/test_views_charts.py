"""The schedule timeline figure (pure): rows, wall-clock bars across DST, gaps in red."""

import plotly.graph_objects as go

from oncall import charts
from oncall.rotation import Gap, Override, Shift
from tests.support import utc


def figure() -> dict:
    # Berlin, around the spring change on 29 March 2026.
    return charts.timeline_figure(
        tz_name="Europe/Berlin",
        start=utc(2026, 3, 28, 23),
        end=utc(2026, 3, 30, 22),
        layers=[
            ("day", [Shift("dana", utc(2026, 3, 30, 7), utc(2026, 3, 30, 15), "day")]),
            (
                "primary",
                [
                    Shift("ann", utc(2026, 3, 28, 23), utc(2026, 3, 29, 7), "primary"),
                    Shift("bob", utc(2026, 3, 29, 7), utc(2026, 3, 30, 7), "primary"),
                ],
            ),
        ],
        overrides=[Override("olga", utc(2026, 3, 29, 10), utc(2026, 3, 29, 12), replaces="bob")],
        final=[
            Shift("ann", utc(2026, 3, 28, 23), utc(2026, 3, 29, 7), "primary"),
            Shift("bob", utc(2026, 3, 29, 7), utc(2026, 3, 29, 10), "primary"),
            Shift("olga", utc(2026, 3, 29, 10), utc(2026, 3, 29, 12), "override"),
            Shift("bob", utc(2026, 3, 29, 12), utc(2026, 3, 30, 7), "primary"),
            Shift("dana", utc(2026, 3, 30, 7), utc(2026, 3, 30, 15), "day"),
        ],
        gaps=[Gap(utc(2026, 3, 30, 15), utc(2026, 3, 30, 22))],
        now=utc(2026, 3, 29, 9),
    )


def by_name(fig: dict) -> dict:
    return {trace["name"]: trace for trace in fig["data"]}


def test_it_is_a_valid_plotly_figure():
    go.Figure(figure())  # raises on any invalid property


def test_it_has_a_row_per_layer_plus_overrides_and_final():
    layout = figure()["layout"]
    # Reversed so the final schedule is drawn on top.
    assert layout["yaxis"]["categoryarray"] == [
        "2. primary",
        "1. day",
        "Overrides",
        "Final schedule",
    ]


def test_it_draws_bars_on_the_wall_clock_across_the_dst_change():
    ann = by_name(figure())["ann"]
    # Layer bar and final bar: 00:00 CET to 09:00 CEST is 9 wall-clock hours (8 real ones).
    assert ann["y"] == ["2. primary", "Final schedule"]
    assert ann["base"] == ["2026-03-29T00:00:00", "2026-03-29T00:00:00"]
    assert ann["x"] == [9 * 3600 * 1000, 9 * 3600 * 1000]
    assert "CEST" in ann["hovertext"][0] and "CET" in ann["hovertext"][0]


def test_it_shows_overrides_and_who_they_replace():
    olga = by_name(figure())["olga"]
    assert olga["y"] == ["Overrides", "Final schedule"]
    assert olga["base"][0] == "2026-03-29T12:00:00"
    assert "replaces bob" in olga["hovertext"][0]


def test_it_marks_gaps_in_red_on_the_final_row():
    gap = by_name(figure())["Nobody on call"]
    assert gap["marker"]["color"] == charts.GAP_COLOR
    assert gap["y"] == ["Final schedule"]
    assert gap["base"] == ["2026-03-30T17:00:00"]


def test_it_keeps_one_colour_per_person_and_marks_now():
    fig = figure()
    colours = [trace["marker"]["color"] for trace in fig["data"]]
    assert len(colours) == len(set(colours))
    (line,) = fig["layout"]["shapes"]
    assert line["x0"] == "2026-03-29T11:00:00"
    assert fig["layout"]["xaxis"]["range"] == ["2026-03-29T00:00:00", "2026-03-31T00:00:00"]


def test_it_draws_an_empty_schedule():
    fig = charts.timeline_figure(
        tz_name="UTC",
        start=utc(2026, 1, 1),
        end=utc(2026, 1, 2),
        layers=[],
        overrides=[],
        final=[],
        gaps=[Gap(utc(2026, 1, 1), utc(2026, 1, 2))],
    )
    go.Figure(fig)
    assert [trace["name"] for trace in fig["data"]] == ["Nobody on call"]
    assert fig["layout"]["shapes"] == []
