"""HTML pages for maintenance windows: list, create, end now."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import FieldErrors
from incidents.maintenance import selectors as maintenance_selectors
from incidents.maintenance import windows as maintenance_windows
from incidents.maintenance.forms import MaintenanceForm, _initial
from incidents.models import MaintenanceWindow
from oncall import selectors
from oncall.permissions import can_manage
from oncall.selectors import teams_for


@login_required
@require_http_methods(["GET", "POST"])
def maintenance_list(request):
    managed = list(selectors.managed_teams(request.user))
    form = None
    status = 200
    if request.method == "POST":
        if not managed:
            raise PermissionDenied("only team managers plan maintenance")
        form = MaintenanceForm(request.POST, teams=selectors.managed_teams(request.user))
        if form.is_valid():
            try:
                maintenance_windows.maintenance_create(created_by=request.user, **form.cleaned_data)
            except FieldErrors as exc:
                exc.add_to_form(form)
            else:
                messages.success(request, "Maintenance window planned.")
                return redirect("maintenance-list")
        status = 400
    elif managed:
        form = MaintenanceForm(
            initial=_initial(managed), teams=selectors.managed_teams(request.user)
        )
    now = timezone.now()
    windows = list(maintenance_selectors.maintenance_windows_for(request.user)[:200])
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
        maintenance_windows.maintenance_end(window_id=window.pk, user=request.user)
    except FieldErrors as exc:
        # The one refusal: {"window": ["has already ended"]}.
        messages.error(request, f"Maintenance window {' '.join(t for _, t in exc.flat())}.")
    else:
        messages.success(request, "Maintenance ended: paging resumes now.")
    return redirect("maintenance-list")
