"""The schedule timeline as a plotly figure (a plain dict): pure, no Django, no plotly import.

One row per layer (its own shifts, before priorities and overrides), one row for overrides and
one for the final result, with coverage gaps marked in red. The x axis is the schedule's wall
clock: bars are drawn from local start to local end, so a handoff at 09:00 sits at 09:00 on the
axis on both sides of a DST change.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from oncall.rotation import Gap, Layer, Override, Shift
from oncall.rotation.effective import final_shifts, gaps
from oncall.rotation.layers import layer_shifts

FINAL_ROW = "Final schedule"
OVERRIDES_ROW = "Overrides"
GAP_COLOR = "#c0392b"
PALETTE = [
    "#2f5bd3",
    "#2f855a",
    "#b7791f",
    "#7b3fb5",
    "#0f8a8a",
    "#c05621",
    "#4a5568",
    "#b83280",
    "#2b6cb0",
    "#718096",
]


def _wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _label(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime("%a %d %b %H:%M %Z")


def layer_row(position: int, name: str) -> str:
    """Row label of a layer; numbered by priority so it cannot collide with the fixed rows."""
    return f"{position + 1}. {name}"


def timeline_figure(
    *,
    tz_name: str,
    start: datetime,
    end: datetime,
    layers: list[tuple[str, list[Shift]]],
    overrides: list[Override],
    final: list[Shift],
    gaps: list[Gap],
    now: datetime | None = None,
) -> dict:
    """Plotly figure dict for [start, end); ``layers`` are (name, shifts), highest first."""
    tz = ZoneInfo(tz_name)
    rows = [FINAL_ROW, OVERRIDES_ROW] + [
        layer_row(position, name) for position, (name, _) in enumerate(layers)
    ]
    bars: list[tuple[str, str, datetime, datetime, str]] = []  # (user, row, start, end, note)
    for position, (name, shifts) in enumerate(layers):
        bars += [
            (shift.user, layer_row(position, name), shift.start, shift.end, f"layer {name}")
            for shift in shifts
        ]
    for override in overrides:
        low, high = max(override.start, start), min(override.end, end)
        if low < high:
            note = f"override, replaces {override.replaces}" if override.replaces else "override"
            bars.append((override.user, OVERRIDES_ROW, low, high, note))
    bars += [
        (shift.user, FINAL_ROW, shift.start, shift.end, f"final ({shift.source})")
        for shift in final
    ]

    users = sorted({bar[0] for bar in bars})
    traces = []
    for index, user in enumerate(users):
        mine = [bar for bar in bars if bar[0] == user]
        traces.append(_trace(user, PALETTE[index % len(PALETTE)], [bar[1:] for bar in mine], tz))
    if gaps:
        traces.append(
            _trace(
                "Nobody on call",
                GAP_COLOR,
                [(FINAL_ROW, gap.start, gap.end, "coverage gap") for gap in gaps],
                tz,
            )
        )

    shapes = []
    if now is not None and start <= now < end:
        at = _wall(now, tz).isoformat()
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": at,
                "x1": at,
                "y0": 0,
                "y1": 1,
                "line": {"color": "#1d2330", "width": 1, "dash": "dot"},
            }
        )
    return {
        "data": traces,
        "layout": {
            "barmode": "overlay",
            "height": 120 + 44 * len(rows),
            "margin": {"l": 150, "r": 20, "t": 30, "b": 40},
            "xaxis": {
                "type": "date",
                "range": [_wall(start, tz).isoformat(), _wall(end, tz).isoformat()],
                "title": {"text": f"Wall-clock time in {tz_name}"},
            },
            "yaxis": {
                "type": "category",
                "categoryorder": "array",
                "categoryarray": list(reversed(rows)),
                "automargin": True,
            },
            "legend": {"orientation": "h", "y": -0.2},
            "shapes": shapes,
        },
    }


def schedule_timeline(
    *,
    tz_name: str,
    layers: tuple[Layer, ...],
    overrides: tuple[Override, ...],
    start: datetime,
    end: datetime,
    now: datetime | None = None,
) -> tuple[dict, list[Gap], list[Shift]]:
    """The timeline figure of [start, end) with its coverage gaps and final shifts, from plain
    rotation values: the schedule page draws saved layers with it, the editor unsaved ones."""
    tz = ZoneInfo(tz_name)
    final = final_shifts(layers, overrides, tz, start, end)
    holes = gaps(layers, overrides, tz, start, end)
    figure = timeline_figure(
        tz_name=tz_name,
        start=start,
        end=end,
        layers=[(layer.name, layer_shifts(layer, tz, start, end)) for layer in layers],
        overrides=list(overrides),
        final=final,
        gaps=holes,
        now=now,
    )
    return figure, holes, final


def _trace(name: str, color: str, bars: list[tuple[str, datetime, datetime, str]], tz) -> dict:
    walls = [(_wall(low, tz), _wall(high, tz)) for _, low, high, _ in bars]
    return {
        "type": "bar",
        "orientation": "h",
        "name": name,
        "legendgroup": name,
        "marker": {"color": color},
        "y": [row for row, *_ in bars],
        "base": [low.isoformat() for low, _ in walls],
        # Widths in milliseconds of wall-clock time (what a plotly date axis measures).
        # Inside a repeated (fall-back) hour the wall clock runs backwards: clamp at zero.
        "x": [max((high - low).total_seconds(), 0) * 1000 for low, high in walls],
        "hovertext": [
            f"{name}<br>{_label(low, tz)} to {_label(high, tz)}<br>{note}"
            for _, low, high, note in bars
        ],
        "hoverinfo": "text",
    }
