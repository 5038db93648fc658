"""Chart builders are pure: plain values in, plotly figure dicts out (no database)."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from metrics import charts


@dataclass(frozen=True)
class Point:
    drill_name: str
    injected_at: datetime
    mttd_seconds: float | None
    mttr_seconds: float | None


POINTS = [
    Point("March failover", datetime(2026, 3, 2, 10, tzinfo=UTC), 90.0, 1800.0),
    Point("June failover", datetime(2026, 6, 1, 10, tzinfo=UTC), 30.0, None),
]


def test_it_draws_a_services_drills_over_time_in_minutes():
    figure = charts.drill_trend(
        POINTS, service_name="Checkout", max_mttd_seconds=120, max_mttr_seconds=3600
    )
    mttd, mttr, mttd_target, mttr_target = figure["data"]
    assert (mttd["name"], mttr["name"]) == ("MTTD", "MTTR")
    assert mttd["x"] == ["2026-03-02T10:00:00+00:00", "2026-06-01T10:00:00+00:00"]
    assert mttd["y"] == [1.5, 0.5]
    assert mttr["y"] == [30.0, None]  # unresolved: a gap, not a zero
    assert mttd["text"] == ["March failover", "June failover"]
    assert mttd_target["y"] == [2.0, 2.0] and mttd_target["line"]["dash"] == "dash"
    assert mttr_target["y"] == [60.0, 60.0]
    assert figure["layout"]["yaxis"]["title"]["text"] == "minutes"
    assert figure["layout"]["title"]["text"] == "Checkout: drills over time"
    json.dumps(figure)  # ready for json_script


def test_it_leaves_out_target_lines_when_there_is_no_target():
    figure = charts.drill_trend(POINTS, service_name="Checkout")
    assert [trace["name"] for trace in figure["data"]] == ["MTTD", "MTTR"]


def test_a_single_drill_gets_a_fortnight_of_axis_not_sub_millisecond_ticks():
    # Plotly zooms a date axis to the span of its points: with one drill that span is zero
    # and the ticks were microseconds apart.
    (first, _) = POINTS
    figure = charts.drill_trend([first], service_name="Checkout", max_mttd_seconds=120)
    start, end = figure["layout"]["xaxis"]["range"]
    assert (start, end) == ("2026-02-23T10:00:00+00:00", "2026-03-09T10:00:00+00:00")
    assert figure["layout"]["xaxis"]["type"] == "date"
    target = figure["data"][2]
    assert target["name"] == "MTTD target" and target["x"] == [start, end]


def test_drills_months_apart_keep_plotlys_own_range():
    assert "range" not in charts.drill_trend(POINTS, service_name="Checkout")["layout"]["xaxis"]


def test_it_draws_one_weekly_line_per_service_with_gaps():
    weeks = ["2026-W45", "2026-W46", "2026-W47"]
    figure = charts.weekly_trend(
        weeks,
        {"Payments / Checkout": [60.0, None, 300.0], "Payments / API": [6.0, 12.0, 18.0]},
        metric="MTTR",
    )
    names = [trace["name"] for trace in figure["data"]]
    assert names == ["Payments / API", "Payments / Checkout"]  # sorted, stable colours
    checkout = figure["data"][1]
    assert checkout["x"] == weeks
    assert checkout["y"] == [1.0, None, 5.0]
    assert checkout["connectgaps"] is False
    assert figure["layout"]["xaxis"]["type"] == "category"
    assert figure["layout"]["title"]["text"] == "MTTR per service, weekly mean"


def test_it_draws_box_plots_of_the_distributions():
    figure = charts.distributions(
        {"MTTD": [60, 120, 180], "MTTA": [30], "MTTR": []}, title="Checkout"
    )
    assert [(t["type"], t["name"]) for t in figure["data"]] == [
        ("box", "MTTD"),
        ("box", "MTTA"),
        ("box", "MTTR"),
    ]
    assert figure["data"][0]["y"] == [1.0, 2.0, 3.0]
    assert figure["data"][2]["y"] == []
    assert figure["layout"]["showlegend"] is False


def test_it_draws_report_bars_from_payload_rows():
    rows = [
        {
            "name": "API",
            "incidents": 4,
            "alerts": 9,
            "mttd": {"mean": 120.0},
            "mttr": {"mean": None},
        },
        {
            "name": "Checkout",
            "incidents": 1,
            "alerts": 1,
            "mttd": {"mean": 30.0},
            "mttr": {"mean": 600.0},
        },
    ]
    figures = charts.services_bar(rows)
    assert [t["name"] for t in figures["data"]] == ["MTTD", "MTTR"]
    assert figures["data"][0]["y"] == [2.0, 0.5]
    assert figures["data"][1]["y"] == [None, 10.0]
    assert figures["layout"]["barmode"] == "group"
    counts = charts.incidents_bar(rows)
    assert counts["data"][0]["y"] == [4, 1] and counts["data"][1]["y"] == [9, 1]


def test_it_stacks_pages_inside_and_outside_working_hours():
    figure = charts.oncall_load(
        [{"name": "ada", "pages": 5, "off_hours": 2}, {"name": "bob", "pages": 1, "off_hours": 1}]
    )
    inside, outside = figure["data"]
    assert inside["x"] == ["ada", "bob"]
    assert inside["y"] == [3, 0]
    assert outside["y"] == [2, 1]
    assert figure["layout"]["barmode"] == "stack"
