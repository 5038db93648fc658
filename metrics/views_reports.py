"""Weekly report pages: a team's reports, one report with its charts, its CSV, and the
email subscription button. Reports are snapshots: these pages only read them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.fields import MAX_STORED_INT, form_text, whole_number
from metrics import charts, reports
from metrics.models import ReportSubscription, WeeklyReport
from oncall import permissions
from oncall.models import Team
from oncall.selectors import teams_for


def _team(request, slug: str) -> Team:
    team = teams_for(request.user).filter(slug=slug).first()
    if team is None:
        raise Http404("no such team")
    return team


def _report(request, team: Team, week: str) -> WeeklyReport:
    snapshots = WeeklyReport.objects.filter(team=team, week=week)
    version = request.GET.get("version", "")
    if version:
        number = whole_number(version, maximum=MAX_STORED_INT)
        if number is None:  # "x", "²" or 99999999999 names no snapshot
            raise Http404(f"no such version of {team.slug} {week}")
        snapshots = snapshots.filter(version=number)
    report = snapshots.order_by("-version").first()
    if report is None:
        raise Http404(f"no report for {team.slug} {week} yet")
    return report


def _subscribed(request, team: Team) -> bool:
    return ReportSubscription.objects.filter(team=team, user=request.user).exists()


@login_required
@require_GET
def report_index(request, team: str):
    found = _team(request, team)
    snapshots = WeeklyReport.objects.filter(team=found).only(
        "week", "version", "built_at", "team_id"
    )[:300]
    return render(
        request,
        "metrics/report_index.html",
        {"team": found, "reports": snapshots, "subscribed": _subscribed(request, found)},
    )


@login_required
@require_GET
def report_page(request, team: str, week: str):
    found = _team(request, team)
    report = _report(request, found, week)
    context = reports.report_context(report)
    payload = report.payload
    busy = [r for r in payload["services"] if r["incidents"] or r["alerts"]]
    context.update(
        {
            "team": found,
            "versions": list(
                WeeklyReport.objects.filter(team=found, week=week)
                .order_by("version")
                .values_list("version", flat=True)
            ),
            "subscribed": _subscribed(request, found),
            "figures_chart": charts.services_bar(busy) if busy else None,
            "counts_chart": charts.incidents_bar(busy) if busy else None,
            "load_chart": charts.oncall_load(payload["oncall_load"]["people"])
            if payload["oncall_load"]["people"]
            else None,
        }
    )
    return render(request, "metrics/report.html", context)


@login_required
@require_GET
def report_csv(request, team: str, week: str):
    found = _team(request, team)
    report = _report(request, found, week)
    response = HttpResponse(reports.report_csv(report), content_type="text/csv; charset=utf-8")
    filename = f"{found.slug}-{report.week}-v{report.version}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_POST
def report_subscribe(request, team: str):
    found = _team(request, team)
    if not permissions.can_view(request.user, found):
        raise Http404("no such team")
    week = form_text(request.POST, "week")  # before the toggle: a 400 changes nothing
    if not request.user.email:
        messages.error(request, "Add an email address to your account to receive reports.")
    elif reports.subscription_toggle(team=found, user=request.user):
        messages.success(request, f"You will get {found.name}'s weekly report by email.")
    else:
        messages.success(request, f"You no longer get {found.name}'s weekly report.")
    if WeeklyReport.objects.filter(team=found, week=week).exists():
        return redirect("report-page", team=found.slug, week=week)
    return redirect("report-index", team=found.slug)
