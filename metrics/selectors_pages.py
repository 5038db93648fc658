"""Reads for the dashboard and the service page, each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from incidents.models import Incident, Service
from incidents.timeline import selectors as incidents
from metrics import mttx_sql
from metrics import selectors as mttx
from metrics.models import MttxWeek
from metrics.weeks import iso_week_of, shift_week, week_bounds, weeks_between
from oncall.selectors import teams_for

TREND_WEEKS = 12
# The service page reads per-incident durations of one service; more than this in twelve
# weeks is a storm, and the most recent ones tell the story.
MAX_INCIDENTS = 5000


@dataclass(frozen=True)
class Trend:
    weeks: list[str]
    mttd: dict[str, list[float | None]]  # "Team / Service" -> weekly mean seconds
    mttr: dict[str, list[float | None]]
    teams: list[tuple[str, str]]  # (slug, name) of the teams with a line: report links


def dashboard_trend(user, *, now: datetime, weeks: int = TREND_WEEKS) -> Trend:
    """Weekly mean MTTD and MTTR of every service the user may see over the last `weeks`
    closed weeks. Week labels are UTC weeks; each team's week W is its own (Monday 00:00 to
    Monday 00:00 in its zone), so W is on the trend once it is over in that zone.

    Closed weeks come from the rolled-up read model (one query). A cell it does not hold, or
    holds for another zone, is computed live from the incidents, as the service page does
    (metrics.selectors), so the two pages never disagree: the hourly rollup only makes the
    read cheaper. The rollup writes every service's recent weeks (rollup.RECENT_WEEKS), so
    live queries happen only between a week's end and the next rollup (one per time zone).
    """
    last = shift_week(iso_week_of(now, "UTC"), -1)
    labels = weeks_between(shift_week(last, -(weeks - 1)), last)
    services = list(
        services_for(user)
        .order_by("team__name", "name")
        .values_list("pk", "name", "team__slug", "team__name", "team__time_zone")
    )
    zone_of = {pk: zone_name for pk, _, _, _, zone_name in services}
    cells: dict[tuple[int, str], tuple[float | None, float | None]] = {}
    stored = (
        MttxWeek.objects.filter(service_id__in=list(zone_of), drills=False, week__in=labels)
        .order_by()
        .values_list(
            "service_id",
            "week",
            "time_zone",
            "mttd_count",
            "mttd_sum_us",
            "mttr_count",
            "mttr_sum_us",
        )
    )
    for service_id, week, zone_name, d_count, d_sum, r_count, r_sum in stored if services else ():
        if zone_name == zone_of[service_id]:  # rows of an older zone are recomputed
            cells[(service_id, week)] = (_mean(d_count, d_sum), _mean(r_count, r_sum))
    for zone_name, (missing_weeks, missing_services) in _missing_cells(
        zone_of, labels, cells, now=now
    ).items():
        for agg in mttx_sql.aggregate(
            ranges=[(w, *week_bounds(w, zone_name)) for w in sorted(missing_weeks)],
            service_ids=sorted(missing_services),
            drills=False,
        ):
            cells.setdefault(
                (agg.service_id, agg.label),
                (
                    _mean(agg.mttd.count, agg.mttd.total_us),
                    _mean(agg.mttr.count, agg.mttr.total_us),
                ),
            )
    mttd: dict[str, list[float | None]] = {}
    mttr: dict[str, list[float | None]] = {}
    teams: dict[str, str] = {}
    for pk, service, slug, team, _ in services:
        values = [cells.get((pk, week), (None, None)) for week in labels]
        if all(d is None and r is None for d, r in values):
            continue  # no incident in twelve weeks: no line
        teams[slug] = team
        mttd[f"{team} / {service}"] = [d for d, _ in values]
        mttr[f"{team} / {service}"] = [r for _, r in values]
    return Trend(
        weeks=labels, mttd=mttd, mttr=mttr, teams=sorted(teams.items(), key=lambda t: t[1])
    )


def _mean(count: int, total_us: int | None) -> float | None:
    return total_us / count / 1e6 if count and total_us is not None else None


def _missing_cells(
    zone_of: dict[int, str], labels: list[str], cells: dict, *, now: datetime
) -> dict[str, tuple[set[str], set[int]]]:
    """{zone: (weeks, service ids)} of closed weeks the read model did not answer."""
    missing: dict[str, tuple[set[str], set[int]]] = {}
    closed: dict[str, list[str]] = {}
    for service_id, zone_name in zone_of.items():
        if zone_name not in closed:
            closed[zone_name] = [w for w in labels if week_bounds(w, zone_name)[1] <= now]
        for week in closed[zone_name]:
            if (service_id, week) not in cells:
                weeks_set, services_set = missing.setdefault(zone_name, (set(), set()))
                weeks_set.add(week)
                services_set.add(service_id)
    return missing


def dashboard_incidents(
    user, *, resolved: int = 20, open_limit: int | None = None
) -> tuple[list[Incident], list[Incident], bool]:
    """The `open_limit` newest open incidents, the `resolved` most recently resolved, and
    whether more are open than shown: the incidents app's own selectors, two index-ordered
    queries (one query with both as OR-ed subqueries scanned every incident)."""
    open_limit = open_limit or incidents.OPEN_LIST_LIMIT
    still_open = list(incidents.open_incidents(user)[: open_limit + 1])
    done = incidents.recently_resolved(user, limit=resolved)
    return still_open[:open_limit], done, len(still_open) > open_limit


def services_for(user) -> QuerySet[Service]:
    return Service.objects.filter(team__in=teams_for(user)).select_related("team")


@dataclass(frozen=True)
class ServiceFigures:
    weeks: list[mttx.MttxRow]
    durations: dict[str, list[float]]  # "MTTD" / "MTTA" / "MTTR" -> seconds per incident
    incidents: int
    truncated: bool
    start: datetime
    end: datetime


def service_figures(service: Service, *, now: datetime, weeks: int = TREND_WEEKS) -> ServiceFigures:
    """One service's last `weeks` ISO weeks (in its team's zone, the current one included):
    the weekly table, and every production incident's durations for the distributions."""
    team = service.team
    current = iso_week_of(now, team.time_zone)
    first = shift_week(current, -(weeks - 1))
    rows = mttx.mttx_by_service_week(
        team=team, start_week=first, end_week=current, service_ids=[service.pk], now=now
    )
    start = week_bounds(first, team.time_zone)[0]
    per_incident = mttx_sql.service_durations(
        service_id=service.pk, start=start, end=now, limit=MAX_INCIDENTS + 1
    )
    truncated = len(per_incident) > MAX_INCIDENTS
    durations: dict[str, list[float]] = {"MTTD": [], "MTTA": [], "MTTR": []}
    for row in per_incident[:MAX_INCIDENTS]:
        for name, value in zip(durations, row, strict=True):
            if value is not None:
                durations[name].append(value)
    return ServiceFigures(
        weeks=list(reversed(rows)),
        durations=durations,
        incidents=min(len(per_incident), MAX_INCIDENTS),
        truncated=truncated,
        start=start,
        end=now,
    )
