"""What a weekly report says: the JSON payload frozen into a WeeklyReport. Reads only, in a
bounded number of queries whatever the team's size."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.db.models.functions import Coalesce

from incidents.models import EventKind, IncidentEvent
from metrics import definitions, selectors_drills
from metrics import selectors as mttx
from metrics.drill_math import drill_passed
from metrics.models import Drill
from metrics.report_math import change_percent, is_off_hours, top, weighted_mean
from metrics.stats import Summary
from metrics.weeks import shift_week, week_bounds, weeks_between
from oncall.models import Team

FIGURES = ("mttd", "mtta", "mttr")
COMPARED_WEEKS = 4
NOISIEST = 5

try:  # the notifications model belongs to the escalation work; fall back when it is absent
    from incidents.models import Notification, NotificationReason, NotificationStatus
except ImportError:  # pragma: no cover - depends on which apps are installed
    Notification = None

try:  # the person's own zone, when the schedules app keeps one
    from oncall.models import UserProfile
except ImportError:  # pragma: no cover
    UserProfile = None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _summary(summary) -> dict:
    return {
        "count": summary.count,
        "mean": summary.mean,
        "p50": summary.p50,
        "p90": summary.p90,
        "max": summary.max,
    }


def _alert_counts(team: Team, start: datetime, end: datetime) -> dict[int, int]:
    """Alerts that fired (first time or again) per service, drill incidents left out."""
    rows = (
        IncidentEvent.objects.filter(
            kind=EventKind.ALERT_FIRED,
            at__gte=start,
            at__lt=end,
            incident__service__team=team,
            incident__drill_attachment__isnull=True,
        )
        .values("incident__service_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["incident__service_id"]: row["n"] for row in rows}


def service_table(*, team: Team, week: str, start: datetime, end: datetime) -> list[dict]:
    """One row per service: this week's figures and their change against the mean of the
    previous four weeks (each weekly mean weighted by its incident count)."""
    first = shift_week(week, -COMPARED_WEEKS)
    previous = weeks_between(first, shift_week(week, -1))
    rows = mttx.mttx_by_service_week(team=team, start_week=first, end_week=week)
    by_key = {(row.service_id, row.week): row for row in rows}
    alerts = _alert_counts(team, start, end)
    table = []
    for service in team.services.order_by("name"):
        current = by_key.get((service.pk, week))
        history = [by_key[(service.pk, w)] for w in previous if (service.pk, w) in by_key]
        incidents = current.incidents if current else 0
        per_week = sum(r.incidents for r in history) / COMPARED_WEEKS
        row = {
            "service_id": service.pk,
            "slug": service.slug,
            "name": service.name,
            "incidents": incidents,
            "alerts": alerts.get(service.pk, 0),
            "open": current.open if current else 0,
            "unacknowledged": current.unacknowledged if current else 0,
            "previous": {"incidents_per_week": per_week},
            "change": {"incidents": change_percent(incidents, per_week)},
        }
        for name in FIGURES:
            summary = getattr(current, name) if current else None
            row[name] = _summary(summary or Summary.empty())
            before = weighted_mean((getattr(r, name).count, getattr(r, name).mean) for r in history)
            row["previous"][f"{name}_mean"] = before
            row["change"][name] = change_percent(row[name]["mean"], before)
        table.append(row)
    return table


def drills_run(*, team: Team, start: datetime, end: datetime) -> list[dict]:
    """Drills with a fault injected during the week, and how each drilled service did."""
    ids = list(
        Drill.objects.filter(
            team=team, targets__injected_at__gte=start, targets__injected_at__lt=end
        )
        .distinct()
        .order_by("created_at")
        .values_list("id", flat=True)
    )
    outcomes = selectors_drills.drill_outcomes(ids)
    result = []
    for drill_id in ids:
        pairs = outcomes.get(drill_id, [])
        drill = pairs[0][0].drill
        passed = drill_passed([o for _, o in pairs])
        result.append(
            {
                "id": drill_id,
                "name": drill.name,
                "status": drill.status,
                "result": {True: "pass", False: "fail"}.get(passed, "pending"),
                "services": [
                    {
                        "slug": target.service.slug,
                        "name": target.service.name,
                        "injected_at": _iso(o.injected_at),
                        "mttd": o.mttd_seconds,
                        "mttr": o.mttr_seconds,
                        "max_mttd": o.max_mttd_seconds,
                        "max_mttr": o.max_mttr_seconds,
                        "mttd_result": o.mttd_result,
                        "mttr_result": o.mttr_result,
                        "missed": o.missed,
                    }
                    for target, o in pairs
                ],
            }
        )
    return result


def person_time_zones(user_ids, *, default: str) -> dict[int, str]:
    """Each person's zone for judging working hours: their profile's zone
    (oncall.models.UserProfile.time_zone) when they have one, else `default` (the team's)."""
    zones = {user_id: default for user_id in user_ids}
    if UserProfile is not None and zones:
        for user_id, zone in UserProfile.objects.filter(user_id__in=list(zones)).values_list(
            "user_id", "time_zone"
        ):
            zones[user_id] = zone or default
    return zones


def _pages(team: Team, start: datetime, end: datetime) -> dict[tuple[int, int], datetime]:
    """(person, incident) -> when the person was first paged for it during the week."""
    first: dict[tuple[int, int], datetime] = {}

    def note(user_id, incident_id, at):
        key = (user_id, incident_id)
        if key not in first or at < first[key]:
            first[key] = at

    for user_id, incident_id, at in IncidentEvent.objects.filter(
        kind=EventKind.ACKNOWLEDGED,
        actor__isnull=False,
        at__gte=start,
        at__lt=end,
        incident__service__team=team,
    ).values_list("actor_id", "incident_id", "at"):
        note(user_id, incident_id, at)
    if Notification is not None:
        sent = (
            Notification.objects.filter(
                incident__service__team=team,
                status=NotificationStatus.SENT,
                reason__in=[NotificationReason.ESCALATION, NotificationReason.FALLBACK],
            )
            .annotate(sent_at=Coalesce("finished_at", "created_at"))
            .filter(sent_at__gte=start, sent_at__lt=end)
            .values_list("user_id", "incident_id", "sent_at")
        )
        for user_id, incident_id, at in sent:
            note(user_id, incident_id, at)
    return first


PAGES_SOURCE = (
    "incidents the person acknowledged or was sent an escalation notification for"
    if Notification is not None
    else "incidents the person acknowledged (no notification records yet)"
)


def oncall_load(*, team: Team, start: datetime, end: datetime) -> dict:
    pages = _pages(team, start, end)
    counts: dict[int, list[datetime]] = defaultdict(list)
    for (user_id, _), at in pages.items():
        counts[user_id].append(at)
    zones = person_time_zones(counts, default=team.time_zone)
    names = dict(get_user_model().objects.filter(pk__in=list(counts)).values_list("pk", "username"))
    people = [
        {
            "user_id": user_id,
            "name": names.get(user_id, f"user {user_id}"),
            "time_zone": zones[user_id],
            "pages": len(times),
            "off_hours": sum(is_off_hours(t, zones[user_id]) for t in times),
        }
        for user_id, times in counts.items()
    ]
    people.sort(key=lambda p: (-p["pages"], p["name"]))
    return {"source": PAGES_SOURCE, "people": people}


def week_payload(*, team: Team, week: str, now: datetime) -> dict:
    start, end = week_bounds(week, team.time_zone)
    services = service_table(team=team, week=week, start=start, end=end)
    return {
        "team": team.slug,
        "team_name": team.name,
        "week": week,
        "time_zone": team.time_zone,
        "starts_at": _iso(start),
        "ends_at": _iso(end),
        "built_at": _iso(now),
        "compared_weeks": weeks_between(shift_week(week, -COMPARED_WEEKS), shift_week(week, -1)),
        "totals": {
            "incidents": sum(r["incidents"] for r in services),
            "alerts": sum(r["alerts"] for r in services),
        },
        "services": services,
        "noisiest": [
            {
                "slug": r["slug"],
                "name": r["name"],
                "incidents": r["incidents"],
                "alerts": r["alerts"],
            }
            for r in top(services, keys=("incidents", "alerts"), limit=NOISIEST)
        ],
        "drills": drills_run(team=team, start=start, end=end),
        "oncall_load": oncall_load(team=team, start=start, end=end),
        "definitions": {**definitions.ALL, "pages": f"pages: {PAGES_SOURCE}"},
    }
