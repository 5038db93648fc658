"""Reads for the dashboard and the service page, each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from incidents.models import OPEN_STATUSES, Incident, IncidentStatus, Service
from incidents.timeline import selectors as incidents
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
    closed weeks, in ONE query on the rolled-up read model (metrics.rollup keeps it; a week
    not rolled up yet shows as a gap). Week labels are UTC weeks; a team far from UTC has its
    own weeks shifted by its offset, which a 12-week trend does not notice."""
    last = shift_week(iso_week_of(now, "UTC"), -1)
    labels = weeks_between(shift_week(last, -(weeks - 1)), last)
    rows = (
        MttxWeek.objects.filter(service__team__in=teams_for(user), drills=False, week__in=labels)
        .order_by()
        .values_list(
            "service__team__slug",
            "service__team__name",
            "service__name",
            "week",
            "mttd_count",
            "mttd_sum_us",
            "mttr_count",
            "mttr_sum_us",
        )
    )
    index = {week: i for i, week in enumerate(labels)}
    mttd: dict[str, list[float | None]] = {}
    mttr: dict[str, list[float | None]] = {}
    teams: dict[str, str] = {}
    for slug, team, service, week, d_count, d_sum, r_count, r_sum in rows:
        teams[slug] = team
        name = f"{team} / {service}"
        d_line = mttd.setdefault(name, [None] * len(labels))
        r_line = mttr.setdefault(name, [None] * len(labels))
        if d_count and d_sum is not None:
            d_line[index[week]] = d_sum / d_count / 1e6
        if r_count and r_sum is not None:
            r_line[index[week]] = r_sum / r_count / 1e6
    return Trend(
        weeks=labels, mttd=mttd, mttr=mttr, teams=sorted(teams.items(), key=lambda t: t[1])
    )


def dashboard_incidents(user, *, resolved: int = 20) -> tuple[list[Incident], list[Incident]]:
    """The open incidents and the `resolved` most recently resolved, in ONE query (the
    dashboard's query budget is tight): the incidents app's own scoping, both lists at once."""
    recent = (
        incidents.incidents_for(user)
        .filter(status=IncidentStatus.RESOLVED)
        .order_by("-resolved_at")
        .values("pk")[:resolved]
    )
    rows = list(
        incidents.incidents_for(user).filter(Q(status__in=OPEN_STATUSES) | Q(pk__in=recent))
    )
    still_open = [i for i in rows if i.status in OPEN_STATUSES]
    still_open.sort(key=lambda i: i.detected_at, reverse=True)
    done = [i for i in rows if i.status == IncidentStatus.RESOLVED]
    done.sort(key=lambda i: i.resolved_at, reverse=True)
    return still_open, done


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
    ids = list(
        Incident.objects.filter(
            service=service,
            detected_at__gte=start,
            detected_at__lte=now,
            drill_attachment__isnull=True,
        )
        .order_by("-detected_at")
        .values_list("id", flat=True)[: MAX_INCIDENTS + 1]
    )
    truncated = len(ids) > MAX_INCIDENTS
    per_incident = mttx.mttx_for_incidents(incident_ids=ids[:MAX_INCIDENTS])
    durations: dict[str, list[float]] = {"MTTD": [], "MTTA": [], "MTTR": []}
    for figures in per_incident.values():
        if figures.get("drill_id"):
            continue
        for name in durations:
            value = figures.get(name.lower())
            if value is not None:
                durations[name].append(value)
    return ServiceFigures(
        weeks=list(reversed(rows)),
        durations=durations,
        incidents=min(len(ids), MAX_INCIDENTS),
        truncated=truncated,
        start=start,
        end=now,
    )
