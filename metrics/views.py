"""Dashboard and service page. Drill pages are in views_drills, report pages in
views_reports. Figures are built by metrics.charts and drawn by static/js/charts.js."""

from __future__ import annotations

from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from metrics import charts, checklist, definitions, selectors_drills, selectors_pages
from metrics.report_math import fmt_duration
from oncall.models import Team
from oncall.permissions import can_manage, can_view

try:  # who is on call comes from the schedules work; the dashboard works without it
    from oncall.selectors import oncall_now, schedules_for
except ImportError:  # pragma: no cover - depends on the schedules app
    oncall_now = schedules_for = None

# Partials other parts of the app may provide; included only when they exist.
PARTIALS = {
    "escalation_warnings": "incidents/_escalation_warnings.html",
    "maintenance_active": "incidents/_maintenance_active.html",
}


def _template_exists(name: str) -> bool:
    try:
        select_template([name])
    except TemplateDoesNotExist:
        return False
    return True


def _oncall(user, now) -> list[dict] | None:
    """[{schedule, team, user, until}] or None when schedules are not available."""
    if oncall_now is None:
        return None
    if not schedules_for(user).exists():
        return []  # one cheap query instead of resolving rotations for nothing
    rows = []
    for schedule, shift in oncall_now(user, now=now):
        rows.append(
            {
                "schedule": schedule,
                "team": schedule.team,
                "user": getattr(shift, "user", None),
                "until": getattr(shift, "end", None),
            }
        )
    return rows


@login_required
@require_GET
def dashboard(request):
    now = timezone.now()
    open_incidents, resolved, more_open = selectors_pages.dashboard_incidents(request.user)
    open_incidents.sort(key=lambda i: (i.service.name, -i.pk))
    by_service = [
        (service, list(items))
        for service, items in groupby(open_incidents, key=lambda i: i.service)
    ]
    trend = selectors_pages.dashboard_trend(request.user, now=now)
    has_trend = bool(trend.mttd or trend.mttr)
    return render(
        request,
        "metrics/dashboard.html",
        {
            "open_by_service": by_service,
            "open_count": len(open_incidents),
            "more_open": more_open,
            "resolved": resolved,
            "oncall": _oncall(request.user, now),
            "drills": selectors_drills.drills_dashboard(request.user, now=now),
            "mttd_trend": charts.weekly_trend(trend.weeks, trend.mttd, metric="MTTD")
            if has_trend
            else None,
            "mttr_trend": charts.weekly_trend(trend.weeks, trend.mttr, metric="MTTR")
            if has_trend
            else None,
            "report_teams": trend.teams,
            "partials": {key: _template_exists(name) for key, name in PARTIALS.items()},
            "definitions": definitions.ALL,
            "checklists": checklist.checklists_for(
                request.user, dismissed=set(request.session.get(DISMISSED_KEY, []))
            ),
        },
    )


# Session key of the teams whose getting-started checklist the user put away.
DISMISSED_KEY = "checklist_dismissed"


@login_required
@require_POST
def checklist_dismiss(request, team: str):
    """Hide a team's checklist for this session's user (it also goes once every step is
    done)."""
    found = Team.objects.filter(slug=team).first()
    if found is None or not can_view(request.user, found):
        raise Http404("no such team")
    if not can_manage(request.user, found):
        raise PermissionDenied("the checklist is for the team's managers")
    dismissed = set(request.session.get(DISMISSED_KEY, []))
    request.session[DISMISSED_KEY] = sorted(dismissed | {found.pk})
    return redirect("dashboard")


def _formatted(summary) -> dict:
    return {k: fmt_duration(getattr(summary, k)) for k in ("mean", "p50", "p90")}


@login_required
@require_GET
def service_page(request, slug: str):
    service = selectors_pages.services_for(request.user).filter(slug=slug).first()
    if service is None:
        raise Http404("no such service")
    now = timezone.now()
    figures = selectors_pages.service_figures(service, now=now)
    rows = [
        {
            "week": row.week,
            "incidents": row.incidents,
            "open": row.open,
            "unacknowledged": row.unacknowledged,
            **{name: _formatted(getattr(row, name)) for name in ("mttd", "mtta", "mttr")},
        }
        for row in figures.weeks
    ]
    has_data = any(figures.durations.values())
    return render(
        request,
        "metrics/service.html",
        {
            "service": service,
            "figures": figures,
            "rows": rows,
            "distribution": charts.distributions(
                figures.durations, title=f"{service.name}: durations, last 12 weeks"
            )
            if has_data
            else None,
            "definitions": definitions.ALL,
        },
    )
