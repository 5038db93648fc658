"""Builders for schedule tests: schedules go through the services, as users' would."""

from __future__ import annotations

from datetime import datetime, time

from oncall import services


def layer(
    name: str,
    participants: list,
    *,
    unit: str = "days",
    every: int = 1,
    handoff_start: datetime,
    restrictions: tuple = (),
    end: datetime | None = None,
) -> services.LayerSpec:
    return services.LayerSpec(
        name=name,
        participants=tuple(participants),
        unit=unit,
        every=every,
        handoff_start=handoff_start,
        restrictions=tuple(
            services.RestrictionSpec(days=tuple(days), start=time(*start), end=time(*end))
            for days, start, end in restrictions
        ),
        end=end,
    )


def schedule(team, layers: list, *, name: str = "Primary", time_zone: str = "Europe/Berlin", **kw):
    return services.schedule_create(team=team, name=name, time_zone=time_zone, layers=layers, **kw)
