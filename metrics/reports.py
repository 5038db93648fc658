"""Weekly MTTR reports: build immutable snapshots, email them, export them as CSV.

A (team, week) is built once; building it again returns the existing snapshot and says so,
unless a rebuild is asked for, which adds a new version and keeps every older one.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from datetime import datetime, time

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from metrics import definitions
from metrics.models import ReportEmail, ReportSubscription, WeeklyReport
from metrics.report_data import FIGURES, week_payload
from metrics.report_math import fmt_change, fmt_duration
from metrics.weeks import iso_week_of, monday_of, parse_iso_week, shift_week, week_bounds, zone
from oncall.models import Team

log = logging.getLogger(__name__)


class ReportError(Exception):
    """Bad input for a report (an unknown week, a week that has not started)."""


@dataclass(frozen=True)
class BuildResult:
    report: WeeklyReport
    created: bool

    @property
    def message(self) -> str:
        r = self.report
        if self.created:
            return f"built {r.team.slug} {r.week} version {r.version}"
        return (
            f"{r.team.slug} {r.week} already built at {r.built_at.isoformat()} "
            f"(version {r.version}); use --rebuild for a new version"
        )


def previous_week(team: Team, *, now: datetime) -> str:
    """The ISO week before the one `now` falls in, on the team's wall clock."""
    return shift_week(iso_week_of(now, team.time_zone), -1)


# A week's report is built once the team's Monday 06:00 (its own wall clock) has passed:
# the week is over, and the night's late acknowledgements and resolutions are in.
REPORT_TIME = time(6, 0)


def due_week(team: Team, *, now: datetime) -> str:
    """The latest week whose report is due on the team's wall clock: the previous week once
    this week's Monday 06:00 has passed there, the one before until then."""
    current = iso_week_of(now, team.time_zone)
    due_at = datetime.combine(monday_of(current), REPORT_TIME, tzinfo=zone(team.time_zone))
    return shift_week(current, -1 if now >= due_at else -2)


def latest(team: Team, week: str) -> WeeklyReport | None:
    return WeeklyReport.objects.filter(team=team, week=week).order_by("-version").first()


def report_build(
    *,
    team: Team,
    week: str,
    rebuild: bool = False,
    user=None,
    now: datetime | None = None,
) -> BuildResult:
    """Freeze the team's figures for `week`. Idempotent without `rebuild`."""
    now = now or timezone.now()
    try:
        parse_iso_week(week)
    except ValueError as exc:
        raise ReportError(str(exc)) from None
    start, end = week_bounds(week, team.time_zone)
    if end > now:
        # A snapshot is immutable, so a week is only frozen once it is over.
        raise ReportError(f"{week} is not over yet in {team.time_zone} (it ends {end.isoformat()})")
    for _attempt in range(3):
        existing = latest(team, week)
        if existing is not None and not rebuild:
            return BuildResult(existing, created=False)
        payload = week_payload(team=team, week=week, now=now)
        # The version follows the one this builder saw, not whatever is there by now: two
        # plain builds racing (two beats, both at minute 0) both claim version 1, so the
        # unique (team, week, version) lets one in and the other returns it; reading the
        # highest version here instead let the later one in as version 2, a second report
        # emailed to every subscriber.
        version = existing.version + 1 if existing is not None else 1
        try:
            with transaction.atomic():
                report = WeeklyReport.objects.create(
                    team=team,
                    week=week,
                    version=version,
                    time_zone=team.time_zone,
                    starts_at=start,
                    ends_at=end,
                    payload=payload,
                    built_at=now,
                    built_by=user,
                )
            return BuildResult(report, created=True)
        except IntegrityError:
            # Another builder took this version a moment ago: a plain build returns theirs,
            # a rebuild tries the next version.
            continue
    raise ReportError(f"could not build {team.slug} {week}: too many concurrent builds")


def reports_build_previous_week(*, now: datetime | None = None) -> list[BuildResult]:
    """For the hourly beat: each team's previous ISO week in its own zone, once its Monday
    06:00 has passed there (due_week); a week already built is returned, not rebuilt."""
    now = now or timezone.now()
    results = []
    for team in Team.objects.order_by("pk"):
        try:
            results.append(report_build(team=team, week=due_week(team, now=now), now=now))
        except Exception:
            # One team's bad data must not cost every other team its report.
            log.exception("weekly report for team %s failed", team.slug)
    return results


# --- email ------------------------------------------------------------------------------------


def report_context(report: WeeklyReport) -> dict:
    payload = report.payload
    rows = [
        {
            **row,
            **{
                f"{n}_text": {k: fmt_duration(row[n][k]) for k in ("mean", "p50", "p90")}
                for n in FIGURES
            },
            "change_text": {k: fmt_change(v) for k, v in row["change"].items()},
        }
        for row in payload["services"]
    ]
    drills = [
        {
            **drill,
            "services": [
                {**s, "mttd_text": fmt_duration(s["mttd"]), "mttr_text": fmt_duration(s["mttr"])}
                for s in drill["services"]
            ],
        }
        for drill in payload["drills"]
    ]
    return {
        "report": report,
        "payload": payload,
        "rows": rows,
        "drills": drills,
        "definitions": payload.get("definitions", definitions.ALL),
        "base_url": settings.PAGERLINE_BASE_URL,
    }


def _recipients(report: WeeklyReport):
    """Subscribed people who are still members of the team and have an address."""
    return (
        ReportSubscription.objects.filter(
            team_id=report.team_id, user__memberships__team_id=report.team_id
        )
        .exclude(user__email="")
        .select_related("user")
        .order_by("user__username")
    )


def report_email(*, report_id: int, connection=None) -> int:
    """Email the report to its team's subscribers; safe to run twice (each person gets it
    once: the row is claimed before sending and released if sending fails)."""
    report = WeeklyReport.objects.select_related("team").filter(pk=report_id).first()
    if report is None:
        return 0
    context = report_context(report)
    subject = f"[Pagerline] {report.team.name} weekly report {report.week}"
    text = render_to_string("email/weekly_report.txt", context)
    html = render_to_string("email/weekly_report.html", context)
    connection = connection or get_connection()
    sent = 0
    for subscription in _recipients(report):
        user = subscription.user
        try:
            with transaction.atomic():
                claim = ReportEmail.objects.create(
                    report=report, user=user, address=user.email, sent_at=timezone.now()
                )
        except IntegrityError:
            continue  # already sent
        message = EmailMultiAlternatives(
            subject, text, settings.DEFAULT_FROM_EMAIL, [user.email], connection=connection
        )
        message.attach_alternative(html, "text/html")
        try:
            message.send()
        except Exception:
            ReportEmail.objects.filter(pk=claim.pk).delete()
            raise
        sent += 1
    return sent


def subscription_toggle(*, team: Team, user) -> bool:
    """Subscribe or unsubscribe the user; returns whether they are now subscribed."""
    deleted, _ = ReportSubscription.objects.filter(team=team, user=user).delete()
    if deleted:
        return False
    ReportSubscription.objects.get_or_create(team=team, user=user)
    return True


# --- CSV --------------------------------------------------------------------------------------

CSV_HEADER = [
    "week",
    "service",
    "incidents",
    "alerts",
    "open",
    "unacknowledged",
    *[f"{n}_{k}_seconds" for n in FIGURES for k in ("mean", "p50", "p90")],
    "incidents_change_percent",
    *[f"{n}_change_percent" for n in FIGURES],
]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)


def report_csv(report: WeeklyReport) -> str:
    """One row per service; durations in seconds, empty where there is nothing to measure."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in report.payload["services"]:
        writer.writerow(
            [
                report.week,
                row["slug"],
                row["incidents"],
                row["alerts"],
                row["open"],
                row["unacknowledged"],
                *[_cell(row[n][k]) for n in FIGURES for k in ("mean", "p50", "p90")],
                _cell(row["change"]["incidents"]),
                *[_cell(row["change"][n]) for n in FIGURES],
            ]
        )
    return out.getvalue()
