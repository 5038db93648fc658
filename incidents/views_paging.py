"""HTML pages for paging: maintenance windows (list, create, end now) and the circuit
breakers of outbound notification endpoints."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import selectors_paging
from incidents.models import MaintenanceWindow, Service
from incidents.services import maintenance
from oncall.permissions import can_manage
from oncall.selectors import teams_for

_LOCAL = "%Y-%m-%dT%H:%M"


class MaintenanceForm(forms.Form):
    team = forms.ModelChoiceField(queryset=None)
    services = forms.ModelMultipleChoiceField(queryset=None, widget=forms.CheckboxSelectMultiple)
    starts_at = forms.DateTimeField(
        input_formats=[_LOCAL], widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        input_formats=[_LOCAL], widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(max_length=500)

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["services"].queryset = Service.objects.filter(team__in=teams).select_related(
            "team"
        )
        self.fields["services"].label_from_instance = lambda s: f"{s.name} ({s.team.name})"

    def clean(self):
        data = super().clean()
        team = data.get("team")
        if team is not None:
            # Times are typed in the team's own zone; storage is UTC.
            zone = ZoneInfo(team.time_zone)
            for name in ("starts_at", "ends_at"):
                if data.get(name):
                    data[name] = data[name].replace(tzinfo=None).replace(tzinfo=zone)
        return data


def _initial(teams) -> dict:
    first = teams[0] if teams else None
    zone = ZoneInfo(first.time_zone) if first else ZoneInfo("UTC")
    start = timezone.now().astimezone(zone).replace(second=0, microsecond=0)
    return {
        "team": first,
        "starts_at": start.strftime(_LOCAL),
        "ends_at": (start + timedelta(hours=1)).strftime(_LOCAL),
    }


@login_required
@require_http_methods(["GET", "POST"])
def maintenance_list(request):
    managed = list(selectors_paging.managed_teams(request.user))
    form = None
    status = 200
    if request.method == "POST":
        if not managed:
            raise PermissionDenied("only team managers plan maintenance")
        form = MaintenanceForm(request.POST, teams=selectors_paging.managed_teams(request.user))
        if form.is_valid():
            try:
                maintenance.maintenance_create(created_by=request.user, **form.cleaned_data)
            except maintenance.MaintenanceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, "Maintenance window planned.")
                return redirect("maintenance-list")
        status = 400
    elif managed:
        form = MaintenanceForm(
            initial=_initial(managed), teams=selectors_paging.managed_teams(request.user)
        )
    now = timezone.now()
    windows = list(selectors_paging.maintenance_windows_for(request.user)[:200])
    managed_ids = {team.pk for team in managed}
    rows = []
    for window in windows:
        state = window.status_at(now)
        can_end = window.team_id in managed_ids and state in {"active", "scheduled"}
        rows.append({"window": window, "status": state, "can_end": can_end})
    context = {
        "rows": rows,
        "form": form,
        "now": now,
    }
    return render(request, "incidents/maintenance_list.html", context, status=status)


@login_required
@require_POST
def maintenance_end(request, window_id: int):
    window = MaintenanceWindow.objects.filter(
        pk=window_id, team__in=teams_for(request.user)
    ).first()
    if window is None:
        raise Http404("no such maintenance window")
    if not can_manage(request.user, window.team_id):
        raise PermissionDenied("only team managers end maintenance")
    try:
        maintenance.maintenance_end(window_id=window.pk, user=request.user)
    except maintenance.MaintenanceError as exc:
        messages.error(request, f"Maintenance window {exc.message}.")
    else:
        messages.success(request, "Maintenance ended: paging resumes now.")
    return redirect("maintenance-list")


@login_required
@require_GET
def circuit_breakers(request):
    if not (request.user.is_staff or selectors_paging.managed_teams(request.user).exists()):
        raise PermissionDenied("managers only")
    return render(
        request,
        "incidents/circuit_breakers.html",
        {"breakers": list(selectors_paging.circuit_breakers())},
    )
