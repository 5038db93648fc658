"""Plotly figures, built server-side. Pure: plain values in, a JSON-ready figure dict out
(rendered in the browser by static/js/charts.js with Plotly.newPlot). Durations arrive in
seconds and are drawn in minutes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

MTTD_COLOR = "#2f5bd3"
MTTA_COLOR = "#b7791f"
MTTR_COLOR = "#c0392b"
PALETTE = ["#2f5bd3", "#c0392b", "#2f855a", "#b7791f", "#6b46c1", "#0f766e", "#be185d", "#475569"]
CONFIG = {"displaylogo": False, "responsive": True}


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 2)


def _layout(title: str, *, y_title: str, x_title: str = "", **extra) -> dict:
    layout = {
        "title": {"text": title},
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"},
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "height": 320,
        "legend": {"orientation": "h"},
    }
    layout.update(extra)
    return layout


def _figure(data: list[dict], layout: dict) -> dict:
    return {"data": data, "layout": layout, "config": CONFIG}


def _iso(value: datetime) -> str:
    return value.isoformat()


# Drills closer together than this (or a single drill) would make plotly zoom its date axis
# to the span between them, down to sub-millisecond ticks: show a fortnight around them.
MIN_DRILL_SPAN = timedelta(days=1)
DRILL_PADDING = timedelta(days=7)


def _drill_range(instants: Sequence[datetime]) -> list[str] | None:
    if not instants or max(instants) - min(instants) >= MIN_DRILL_SPAN:
        return None  # plotly's own range fits
    middle = min(instants) + (max(instants) - min(instants)) / 2
    return [_iso(middle - DRILL_PADDING), _iso(middle + DRILL_PADDING)]


def drill_trend(
    points: Sequence,
    *,
    service_name: str,
    max_mttd_seconds: int | None = None,
    max_mttr_seconds: int | None = None,
) -> dict:
    """MTTD and MTTR of one service across its drills over time (points have drill_name,
    injected_at, mttd_seconds, mttr_seconds), with the current targets as dashed lines."""
    x = [_iso(p.injected_at) for p in points]
    names = [p.drill_name for p in points]
    x_range = _drill_range([p.injected_at for p in points])
    # Target lines run across the whole visible axis.
    target_x = x_range or ([x[0], x[-1]] if x else [])
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "MTTD",
            "x": x,
            "y": [minutes(p.mttd_seconds) for p in points],
            "text": names,
            "line": {"color": MTTD_COLOR},
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "MTTR",
            "x": x,
            "y": [minutes(p.mttr_seconds) for p in points],
            "text": names,
            "line": {"color": MTTR_COLOR},
        },
    ]
    for label, target, color in (
        ("MTTD target", max_mttd_seconds, MTTD_COLOR),
        ("MTTR target", max_mttr_seconds, MTTR_COLOR),
    ):
        if target is not None and x:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": label,
                    "x": target_x,
                    "y": [minutes(target)] * 2,
                    "line": {"color": color, "dash": "dash", "width": 1},
                    "hoverinfo": "skip",
                }
            )
    layout = _layout(
        f"{service_name}: drills over time", y_title="minutes", x_title="fault injected"
    )
    if x_range:
        layout["xaxis"] = {**layout["xaxis"], "type": "date", "range": x_range}
    return _figure(data, layout)


def weekly_trend(
    weeks: Sequence[str], series: dict[str, Sequence[float | None]], *, metric: str
) -> dict:
    """One line per service: the weekly mean of `metric` (MTTD, MTTA or MTTR) in minutes.
    `series` maps a service name to one value (seconds, or None: no incidents) per week."""
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": name,
            "x": list(weeks),
            "y": [minutes(v) for v in values],
            "connectgaps": False,
            "line": {"color": PALETTE[i % len(PALETTE)]},
        }
        for i, (name, values) in enumerate(sorted(series.items()))
    ]
    return _figure(
        data,
        _layout(
            f"{metric} per service, weekly mean",
            y_title="minutes",
            x_title="ISO week",
            xaxis={"title": {"text": "ISO week"}, "type": "category"},
        ),
    )


def distributions(durations: dict[str, Iterable[float]], *, title: str) -> dict:
    """Box plots of per-incident durations, one box per figure name (MTTD, MTTA, MTTR)."""
    colors = {"MTTD": MTTD_COLOR, "MTTA": MTTA_COLOR, "MTTR": MTTR_COLOR}
    data = [
        {
            "type": "box",
            "name": name,
            "y": [minutes(v) for v in values],
            "boxpoints": "outliers",
            "marker": {"color": colors.get(name, PALETTE[0])},
        }
        for name, values in durations.items()
    ]
    return _figure(data, _layout(title, y_title="minutes", showlegend=False))


def services_bar(rows: Sequence[dict], *, title: str = "Mean MTTD and MTTR per service") -> dict:
    """Grouped bars from report rows: {"name", "mttd": {"mean"}, "mttr": {"mean"}}."""
    names = [r["name"] for r in rows]
    data = [
        {
            "type": "bar",
            "name": label,
            "x": names,
            "y": [minutes(r[key]["mean"]) for r in rows],
            "marker": {"color": color},
        }
        for label, key, color in (("MTTD", "mttd", MTTD_COLOR), ("MTTR", "mttr", MTTR_COLOR))
    ]
    return _figure(data, _layout(title, y_title="minutes", barmode="group"))


def incidents_bar(rows: Sequence[dict], *, title: str = "Incidents and alerts per service") -> dict:
    """Bars of incident and alert counts from report rows: {"name", "incidents", "alerts"}."""
    names = [r["name"] for r in rows]
    data = [
        {"type": "bar", "name": "incidents", "x": names, "y": [r["incidents"] for r in rows]},
        {"type": "bar", "name": "alerts", "x": names, "y": [r["alerts"] for r in rows]},
    ]
    return _figure(data, _layout(title, y_title="count", barmode="group"))


def oncall_load(people: Sequence[dict], *, title: str = "Pages per person") -> dict:
    """Stacked bars: pages inside and outside working hours, from {"name", "pages",
    "off_hours"}."""
    names = [p["name"] for p in people]
    data = [
        {
            "type": "bar",
            "name": "working hours",
            "x": names,
            "y": [p["pages"] - p["off_hours"] for p in people],
            "marker": {"color": MTTD_COLOR},
        },
        {
            "type": "bar",
            "name": "off hours",
            "x": names,
            "y": [p["off_hours"] for p in people],
            "marker": {"color": MTTR_COLOR},
        },
    ]
    return _figure(data, _layout(title, y_title="pages", barmode="stack"))
