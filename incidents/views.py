from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from incidents import selectors, services
from incidents.models import Incident


def _visible(request, incident_id: int) -> Incident:
    try:
        return selectors.incident_detail(request.user, incident_id)
    except Incident.DoesNotExist:
        raise Http404("no such incident") from None


@login_required
@require_GET
def incident_detail(request, incident_id: int):
    incident = _visible(request, incident_id)
    return render(request, "incidents/detail.html", {"incident": incident})


_ACTIONS = {
    "acknowledge": services.incident_acknowledge,
    "resolve": services.incident_resolve,
}


@login_required
@require_POST
def incident_action(request, incident_id: int, action: str):
    incident = _visible(request, incident_id)
    if action not in _ACTIONS:
        raise Http404("no such action")
    try:
        _ACTIONS[action](incident_id=incident.pk, user=request.user)
    except services.InvalidTransition as exc:
        messages.error(request, str(exc))
    return redirect("incident-detail", incident_id=incident.pk)


def _row(incident: Incident) -> dict:
    return {
        "id": incident.pk,
        "title": incident.title,
        "service": incident.service.name,
        "status": incident.status,
        "severity": incident.severity,
        "detected_at": incident.detected_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "url": f"/incidents/{incident.pk}/",
    }


@login_required
@require_GET
def incidents_feed(request):
    """What the dashboard polls to show new incidents without a reload."""
    return JsonResponse(
        {
            "open": [_row(i) for i in selectors.open_incidents(request.user)[:200]],
            "resolved": [_row(i) for i in selectors.recently_resolved(request.user)],
        }
    )
