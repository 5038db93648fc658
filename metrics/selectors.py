"""MTTD / MTTA / MTTR reads: per service and ISO week, per team, per incident.

Closed weeks come from the exact read model (metrics.models.MttxWeek, kept by
metrics.rollup); the open week, and any closed week not rolled up yet, is computed live by
the same SQL (metrics.mttx_sql). Either way every figure is exact and the query count is
constant. These functions do not check permissions: callers pass a team the user may see.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max
from django.utils import timezone

from incidents.models import Incident, IncidentEvent, Service
from metrics import mttx_sql, weeks
from metrics.models import MttxWeek
from metrics.stats import MICROSECONDS, Summary, frozen_instance
from oncall.models import Team

__all__ = [
    "MttxRow",
    "Summary",
    "mttx_by_service_week",
    "mttx_for_incidents",
    "mttx_for_team",
]


@dataclass(frozen=True)
class MttxRow:
    service_id: int | None
    week: str  # "2026-W47" in the team's zone; "" for a summary over a range
    incidents: int  # incidents detected in the week
    open: int  # left out of MTTR
    unacknowledged: int  # left out of MTTA
    mttd: Summary
    mtta: Summary
    mttr: Summary

    @classmethod
    def empty(cls, *, service_id: int | None, week: str) -> MttxRow:
        nothing = Summary.empty()
        return cls(service_id, week, 0, 0, 0, nothing, nothing, nothing)

    def as_dict(self) -> dict:
        return {
            "service_id": self.service_id,
            "week": self.week,
            "incidents": self.incidents,
            "open": self.open,
            "unacknowledged": self.unacknowledged,
            "mttd": self.mttd.as_dict(),
            "mtta": self.mtta.as_dict(),
            "mttr": self.mttr.as_dict(),
        }


def _row_from_aggregate(agg: mttx_sql.Aggregate, *, week: str | None = None) -> MttxRow:
    return MttxRow(
        service_id=agg.service_id,
        week=agg.label if week is None else week,
        incidents=agg.incidents,
        open=agg.open,
        unacknowledged=agg.unacknowledged,
        mttd=agg.mttd.summary(),
        mtta=agg.mtta.summary(),
        mttr=agg.mttr.summary(),
    )


_STORED_FIELDS = [
    "service_id",
    "week",
    "rolled_up_through_event_id",
    "incidents",
    "open",
    "unacknowledged",
    *(
        f"{metric}_{part}"
        for metric in mttx_sql.METRICS
        for part in ("count", "sum_us", "max_us", "p50", "p90")
    ),
]


_EMPTY = Summary.empty()


def _summary(count: int, total_us: int | None, max_us: int | None, p50, p90) -> Summary:
    if not count:
        return _EMPTY
    return frozen_instance(
        Summary,
        count=count,
        mean=total_us / (count * MICROSECONDS),
        p50=p50,
        p90=p90,
        max=max_us / MICROSECONDS,
    )


def _row_from_stored(values: tuple) -> MttxRow:
    (service_id, week, _, incidents, open_count, unacked,
     d_count, d_sum, d_max, d_p50, d_p90,
     a_count, a_sum, a_max, a_p50, a_p90,
     r_count, r_sum, r_max, r_p50, r_p90) = values  # fmt: skip
    # A year of weekly rows is thousands of these: plain positional calls, no slicing.
    return frozen_instance(
        MttxRow,
        service_id=service_id,
        week=week,
        incidents=incidents,
        open=open_count,
        unacknowledged=unacked,
        mttd=_summary(d_count, d_sum, d_max, d_p50, d_p90),
        mtta=_summary(a_count, a_sum, a_max, a_p50, a_p90),
        mttr=_summary(r_count, r_sum, r_max, r_p50, r_p90),
    )


def weeks_touched_after(
    *,
    event_id: int,
    service_ids: list[int] | None = None,
    detected_from: datetime | None = None,
    detected_before: datetime | None = None,
) -> dict[int, dict[str, int]]:
    """{service_id: {ISO week in the team's zone: last event id}} of incidents with events
    after event_id: the weeks whose rolled-up figures those events may have changed."""
    events = IncidentEvent.objects.filter(id__gt=event_id)
    incidents = Incident.objects.filter(id__in=events.values("incident_id"))
    if service_ids is not None:
        incidents = incidents.filter(service_id__in=service_ids)
    if detected_from is not None:
        incidents = incidents.filter(detected_at__gte=detected_from)
    if detected_before is not None:
        incidents = incidents.filter(detected_at__lt=detected_before)
    touched: dict[int, dict[str, int]] = defaultdict(dict)
    rows = incidents.values_list("service_id", "service__team__time_zone", "detected_at").annotate(
        last_event=Max("events__id")
    )
    for service_id, zone_name, detected_at, last_event in rows.order_by():
        week = weeks.iso_week_of(detected_at, zone_name)
        touched[service_id][week] = max(touched[service_id].get(week, 0), last_event)
    return touched


def _stored_rows(
    *, service_ids: list[int], ranges: dict[str, weeks.WeekRange], drills: bool, time_zone: str
) -> dict[tuple[int, str], MttxRow]:
    """Rolled-up rows for these weeks that are still exact: computed in the team's zone,
    and no incident event since the row was computed (a late resolve, a correction;
    the next rollup will recompute those, until then they are computed live)."""
    if not service_ids or not ranges:
        return {}
    # Only rows computed in the team's current zone (the rollup rewrites the others).
    stored = list(
        MttxWeek.objects.filter(
            service_id__in=service_ids,
            drills=drills,
            week__in=list(ranges),
            time_zone=time_zone,
        )
        .order_by()
        .values_list(*_STORED_FIELDS)
    )
    if not stored:
        return {}
    touched = weeks_touched_after(
        event_id=min(values[2] for values in stored),
        service_ids=service_ids,
        detected_from=min(r.start for r in ranges.values()),
        detected_before=max(r.end for r in ranges.values()),
    )
    found = {}
    for values in stored:
        service_id, week, rolled_up_through = values[:3]
        if touched and touched.get(service_id, {}).get(week, 0) > rolled_up_through:
            continue
        found[(service_id, week)] = _row_from_stored(values)
    return found


def mttx_by_service_week(
    *,
    team: Team,
    start_week: str,
    end_week: str,
    service_ids: list[int] | None = None,
    drills: bool = False,
    now: datetime | None = None,
    live: bool = False,
) -> list[MttxRow]:
    """One row per (service, ISO week) of the team, weeks in the team's zone, every week of
    the range present (zero incidents -> empty summaries), ordered by service then week.

    `live=True` computes every week from the incidents, bypassing the read model (for
    benchmarks and checks); the figures are the same.
    """
    now = now or timezone.now()
    ranges = {r.week: r for r in weeks.week_ranges(start_week, end_week, team.time_zone)}
    services = Service.objects.filter(team=team)
    if service_ids is not None:
        services = services.filter(pk__in=service_ids)
    ids = list(services.order_by("pk").values_list("pk", flat=True))
    if not ids or not ranges:
        return []
    closed = [w for w, r in ranges.items() if r.end <= now]
    found = (
        {}
        if live
        else _stored_rows(
            service_ids=ids,
            ranges={w: ranges[w] for w in closed},
            drills=drills,
            time_zone=team.time_zone,
        )
    )
    missing_weeks = [w for w in ranges if any((s, w) not in found for s in ids)]
    missing_services = [s for s in ids if any((s, w) not in found for w in missing_weeks)]
    computed = mttx_sql.aggregate(
        ranges=[(w, ranges[w].start, ranges[w].end) for w in missing_weeks],
        service_ids=missing_services,
        drills=drills,
    )
    for agg in computed:
        found.setdefault((agg.service_id, agg.label), _row_from_aggregate(agg))
    return [found.get((s, w)) or MttxRow.empty(service_id=s, week=w) for s in ids for w in ranges]


def mttx_for_team(*, team: Team, start: datetime, end: datetime, drills: bool = False) -> MttxRow:
    """The team's figures over [start, end) by detection time, all services together
    (service_id=None, week=""). Percentiles of a range are computed live: they cannot be
    merged from weekly rows."""
    ids = list(Service.objects.filter(team=team).values_list("pk", flat=True))
    computed = mttx_sql.aggregate(
        ranges=[("", start, end)], service_ids=ids, drills=drills, per_service=False
    )
    if not computed:
        return MttxRow.empty(service_id=None, week="")
    return _row_from_aggregate(computed[0], week="")


def mttx_for_incidents(*, incident_ids: list[int]) -> dict[int, dict]:
    """Per incident: impact_start, detected, acknowledged, resolved (aware UTC datetimes or
    None), drill_id, and mttd / mtta / mttr in seconds (None when not acknowledged / not
    resolved). Incidents that do not exist are absent."""
    return mttx_sql.incident_durations(incident_ids=incident_ids)
