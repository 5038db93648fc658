"""Writes of the MTTx read model: roll closed weeks up once, and recompute the ones that
changed since (CQRS: the incident event log is the source, MttxWeek the projection).

A closed week's figures are final unless something happens later to one of its
incidents: a late acknowledgement or resolution, a reopen, a corrected impact start, a
drill attach or detach. Each of those is an IncidentEvent, so the rollup follows the event
log by id: it remembers the last event it has taken into account
(MttxRollupState.rolled_up_through_event_id) and recomputes every closed (service, week)
touched by newer events. Readers do the same check (metrics.selectors), so a figure is
never stale even between two runs.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from incidents.models import Incident, IncidentEvent, Service
from metrics import mttx_sql, selectors, weeks
from metrics.models import MttxRollupState, MttxWeek
from oncall.models import Team

log = logging.getLogger(__name__)

STATE_NAME = "mttx"
# Never roll up further back than this, whatever a stray timestamp says.
MAX_HISTORY = timedelta(weeks=520)
# Weeks computed per query on a first (back-filling) run.
WEEKS_PER_QUERY = 53
# Every service gets rows for at least this many recent closed weeks, incidents or not, so
# the dashboard's 12-week trend (metrics.selectors_pages) finds every cell in the read model
# and only computes live the weeks closed since the last run.
RECENT_WEEKS = 12

_FIGURE_FIELDS = [
    "time_zone",
    "starts_at",
    "ends_at",
    "incidents",
    "open",
    "unacknowledged",
    *(
        f"{metric}_{part}"
        for metric in mttx_sql.METRICS
        for part in ("count", "sum_us", "max_us", "p50", "p90")
    ),
    "rolled_up_through_event_id",
    "computed_at",
]


def _event_cursor_target(*, cursor: int) -> int:
    """The highest event id the cursor may move to. Ids are taken at insert but visible
    only at commit, so an event younger than the commit margin may still have a smaller id
    than one already visible: the cursor stops before the first young event, and events
    after it are looked at again next time. Real time, not the `now` of the caller: this is
    about transactions in flight."""
    margin = timedelta(seconds=settings.PAGERLINE_MTTX_COMMIT_MARGIN_SECONDS)
    cutoff = timezone.now() - margin
    newer = IncidentEvent.objects.filter(id__gt=cursor)
    young = newer.filter(recorded_at__gt=cutoff).aggregate(first=Min("id"))["first"]
    if young is not None:
        return young - 1
    return newer.aggregate(last=Max("id"))["last"] or cursor


def _first_week(*, team: Team, service_ids: list[int], now: datetime) -> str | None:
    earliest = MttxWeek.objects.filter(service_id__in=service_ids).aggregate(
        first=Min("starts_at")
    )["first"]
    if earliest is None:
        earliest = Incident.objects.filter(service_id__in=service_ids).aggregate(
            first=Min("detected_at")
        )["first"]
    if earliest is None:
        return None
    return weeks.iso_week_of(max(earliest, now - MAX_HISTORY), team.time_zone)


def _team_todo(
    *, team: Team, service_ids: list[int], touched: dict[int, dict[str, int]], now: datetime
) -> dict[bool, dict[str, set[int]]]:
    """{drills: {week: {service_id}}} of closed weeks to (re)compute for the team."""
    todo: dict[bool, dict[str, set[int]]] = {False: defaultdict(set), True: defaultdict(set)}
    last_closed = weeks.shift_week(weeks.iso_week_of(now, team.time_zone), -1)
    recent = weeks.shift_week(last_closed, -(RECENT_WEEKS - 1))
    first = _first_week(team=team, service_ids=service_ids, now=now)
    # ISO week labels ("2026-W05") sort like the weeks themselves.
    first = recent if first is None else min(first, recent)
    ranges = {r.week: r for r in weeks.week_ranges(first, last_closed, team.time_zone)}
    stored = {
        (service_id, drills, week): (start, end)
        for service_id, drills, week, start, end in MttxWeek.objects.filter(
            service_id__in=service_ids
        ).values_list("service_id", "drills", "week", "starts_at", "ends_at")
    }
    for week, bounds in ranges.items():
        for service_id in service_ids:
            for drills in (False, True):
                if stored.get((service_id, drills, week)) != (bounds.start, bounds.end):
                    todo[drills][week].add(service_id)
    for service_id in service_ids:
        for week in touched.get(service_id, ()):
            if weeks.is_closed(week, team.time_zone, now=now):
                todo[False][week].add(service_id)
                todo[True][week].add(service_id)
    return todo


def _write(
    *,
    team: Team,
    drills: bool,
    todo: dict[str, set[int]],
    event_id: int,
    now: datetime,
) -> int:
    written = 0
    ordered = sorted(todo)
    for offset in range(0, len(ordered), WEEKS_PER_QUERY):
        chunk = ordered[offset : offset + WEEKS_PER_QUERY]
        bounds = {w: weeks.week_bounds(w, team.time_zone) for w in chunk}
        service_ids = sorted(set().union(*(todo[w] for w in chunk)))
        computed = {
            (agg.service_id, agg.label): agg
            for agg in mttx_sql.aggregate(
                ranges=[(w, *bounds[w]) for w in chunk], service_ids=service_ids, drills=drills
            )
        }
        rows = []
        for week in chunk:
            for service_id in sorted(todo[week]):
                rows.append(
                    _row(
                        service_id=service_id,
                        week=week,
                        drills=drills,
                        bounds=bounds[week],
                        agg=computed.get((service_id, week)),
                        team=team,
                        event_id=event_id,
                        now=now,
                    )
                )
        MttxWeek.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["service", "drills", "week"],
            update_fields=_FIGURE_FIELDS,
        )
        written += len(rows)
    return written


def _row(*, service_id, week, drills, bounds, agg, team, event_id, now) -> MttxWeek:
    figures = {}
    for metric in mttx_sql.METRICS:
        parts = getattr(agg, metric) if agg else mttx_sql.MetricParts(0, None, None, None, None)
        figures.update(
            {
                f"{metric}_count": parts.count,
                f"{metric}_sum_us": parts.total_us,
                f"{metric}_max_us": parts.max_us,
                f"{metric}_p50": parts.p50,
                f"{metric}_p90": parts.p90,
            }
        )
    return MttxWeek(
        service_id=service_id,
        week=week,
        drills=drills,
        time_zone=team.time_zone,
        starts_at=bounds[0],
        ends_at=bounds[1],
        incidents=agg.incidents if agg else 0,
        open=agg.open if agg else 0,
        unacknowledged=agg.unacknowledged if agg else 0,
        rolled_up_through_event_id=event_id,
        computed_at=now,
        **figures,
    )


def mttx_weeks_rollup(*, now: datetime | None = None) -> int:
    """Roll up every closed week not rolled up yet (or rolled up in another time zone) and
    recompute closed weeks touched by events since the last run. Idempotent; concurrent
    runs queue on the state row. Returns the number of (service, week, drills) rows written."""
    now = now or timezone.now()
    MttxRollupState.objects.get_or_create(name=STATE_NAME)
    with transaction.atomic():
        state = MttxRollupState.objects.select_for_update().get(name=STATE_NAME)
        cursor = state.rolled_up_through_event_id
        target = _event_cursor_target(cursor=cursor)
        # Every visible event after the cursor counts, young ones too; only the cursor
        # waits for them.
        touched = selectors.weeks_touched_after(event_id=cursor)
        services_by_team: dict[int, list[int]] = defaultdict(list)
        for service_id, team_id in Service.objects.order_by("pk").values_list("pk", "team_id"):
            services_by_team[team_id].append(service_id)
        written = 0
        for team in Team.objects.filter(pk__in=list(services_by_team)):
            service_ids = services_by_team[team.pk]
            todo = _team_todo(team=team, service_ids=service_ids, touched=touched, now=now)
            for drills, by_week in todo.items():
                written += _write(team=team, drills=drills, todo=by_week, event_id=target, now=now)
        state.rolled_up_through_event_id = target
        state.save(update_fields=["rolled_up_through_event_id", "updated_at"])
    log.info("MTTx rollup: %s rows written, events through %s", written, target)
    return written


def mttx_weeks_invalidate(*, incident_ids: list[int]) -> int:
    """Forget the rolled-up weeks of these incidents (both production and drill rows), for
    changes that are not incident events, e.g. a drill service's injection time edited.
    Readers compute those weeks live until the next rollup writes them again."""
    keys = {
        (service_id, weeks.iso_week_of(detected_at, zone_name))
        for service_id, zone_name, detected_at in Incident.objects.filter(
            id__in=incident_ids
        ).values_list("service_id", "service__team__time_zone", "detected_at")
    }
    deleted = 0
    by_service: dict[int, list[str]] = defaultdict(list)
    for service_id, week in keys:
        by_service[service_id].append(week)
    for service_id, week_list in by_service.items():
        deleted += MttxWeek.objects.filter(service_id=service_id, week__in=week_list).delete()[0]
    return deleted
