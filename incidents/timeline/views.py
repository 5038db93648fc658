"""Incident pages. Thin: parse with a form, call a selector or an action service, render.
A broken rule comes back from the service as InvalidTransition (a message on the page) or
FieldErrors (errors naming the fields); PermissionDenied becomes a 403."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import dateformat, timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import FieldErrors
from incidents.models import Incident, IncidentStatus
from incidents.timeline import actions, describe, forms, markdown, selectors
from oncall.permissions import can_respond

PAGE_SIZE = 25
NOTIFICATIONS_TEMPLATE = "incidents/_notifications.html"


def _visible(request, incident_id: int, *, detail: bool = False) -> Incident:
    lookup = selectors.incident_detail if detail else selectors.incident_visible
    try:
        return lookup(request.user, incident_id)
    except Incident.DoesNotExist:
        raise Http404("no such incident") from None


def _display(value) -> str:
    return dateformat.format(timezone.localtime(value), "Y-m-d H:i:s e") if value else ""


# --- list -------------------------------------------------------------------------------------


@login_required
@require_GET
def incident_list(request):
    form = forms.IncidentFilterForm(request.GET, services=selectors.services_for(request.user))
    filters = {}
    if form.is_valid():
        filters = {name: value for name, value in form.cleaned_data.items() if value}
    incidents = selectors.incident_list(request.user, **filters)
    page = Paginator(incidents, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.status_counts(
        request.user, **{k: v for k, v in filters.items() if k not in {"status", "ordering"}}
    )
    query = urlencode({k: v for k, v in request.GET.items() if k != "page" and v})
    # The page's script polls the API with the same filters, times sent as UTC.
    api_query = urlencode(
        {
            k: v.astimezone(UTC).isoformat() if isinstance(v, datetime) else v
            for k, v in filters.items()
        }
        | {"page": page.number, "page_size": PAGE_SIZE}
    )
    return render(
        request,
        "incidents/list.html",
        {"form": form, "page": page, "counts": counts, "query": query, "api_query": api_query},
    )


# --- manual incidents -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def incident_new(request):
    allowed = selectors.services_to_respond(request.user)
    if request.method == "POST" and not allowed.exists():
        raise PermissionDenied("only responders and managers open incidents")
    form = forms.ManualIncidentForm(request.POST or None, services=allowed)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = actions.incident_create(
                service=data["service"],
                title=data["title"],
                severity=data["severity"],
                description=data["description"],
                impact_started_at=data["impact_started_at"],
                user=request.user,
            )
        except FieldErrors as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, f"Incident #{incident.pk} opened.")
            return redirect("incident-detail", incident_id=incident.pk)
    # A form sent back with its errors is a refused request.
    status = 400 if request.method == "POST" else 200
    return render(
        request, "incidents/new.html", {"form": form, "can_open": allowed.exists()}, status=status
    )


# --- one incident -----------------------------------------------------------------------------


def _optional_template(name: str) -> str | None:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return None
    return name


@login_required
@require_GET
def incident_detail(request, incident_id: int):
    incident = _visible(request, incident_id, detail=True)
    responder = can_respond(request.user, incident.service.team_id)
    entries = [
        {
            "event": event,
            "label": describe.label(event.kind),
            "text": describe.describe(event.kind, event.data),
            "actor": describe.actor_name(event),
            "html": describe.note_html(event),
        }
        for event in incident.events.all()
    ]
    context = {
        "incident": incident,
        "entries": entries,
        "can_respond": responder,
        "members": selectors.assignable_members(incident) if responder else [],
        "severities": forms.SEVERITY_CHOICES,
        "description_html": markdown.render(incident.description),
        "notifications_template": _optional_template(NOTIFICATIONS_TEMPLATE),
    }
    return render(request, "incidents/detail.html", context)


def _acknowledge(request, incident):
    actions.incident_acknowledge(incident_id=incident.pk, user=request.user)
    return "Acknowledged."


def _unacknowledge(request, incident):
    actions.incident_unacknowledge(incident_id=incident.pk, user=request.user)
    return "Acknowledgement withdrawn."


def _resolve(request, incident):
    reason = _parsed(request, forms.ReasonForm)["reason"]
    actions.incident_resolve(incident_id=incident.pk, user=request.user, reason=reason)
    return "Resolved."


def _reopen(request, incident):
    reason = _parsed(request, forms.ReasonForm)["reason"]
    actions.incident_reopen(incident_id=incident.pk, user=request.user, reason=reason)
    return "Reopened."


def _note(request, incident):
    text = _parsed(request, forms.NoteForm)["text"]
    actions.incident_add_note(incident_id=incident.pk, user=request.user, text=text)
    return "Note added."


def _severity(request, incident):
    severity = _parsed(request, forms.SeverityForm)["severity"]
    actions.incident_set_severity(incident_id=incident.pk, user=request.user, severity=severity)
    return f"Severity set to {severity}."


def _assign(request, incident):
    assignee = _parsed(request, forms.AssignForm)["assignee"]
    actions.incident_assign(incident_id=incident.pk, user=request.user, assignee_id=assignee)
    return "Assigned." if assignee else "Unassigned."


def _impact_start(request, incident):
    data = _parsed(request, forms.ImpactStartForm)
    actions.incident_correct_impact_start(
        incident_id=incident.pk,
        user=request.user,
        impact_started_at=data["impact_started_at"],
        reason=data["reason"],
    )
    return "Impact start corrected."


ACTIONS = {
    "acknowledge": _acknowledge,
    "unacknowledge": _unacknowledge,
    "resolve": _resolve,
    "reopen": _reopen,
    "note": _note,
    "severity": _severity,
    "assign": _assign,
    "impact-start": _impact_start,
}


def _parsed(request, form_class) -> dict:
    form = form_class(request.POST)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        raise FieldErrors({field: " ".join(errors)})
    return form.cleaned_data


@login_required
@require_POST
def incident_action(request, incident_id: int, action: str):
    incident = _visible(request, incident_id)
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404("no such action")
    try:
        messages.success(request, handler(request, incident))
    except actions.InvalidTransition as exc:
        messages.error(request, str(exc))
    except FieldErrors as exc:
        messages.error(
            request, "; ".join(f"{field.replace('_', ' ')}: {text}" for field, text in exc.flat())
        )
    return redirect("incident-detail", incident_id=incident.pk)


@login_required
@require_GET
def incident_state(request, incident_id: int):
    """What the incident page polls: its state, and the timeline after `since` (a seq)."""
    incident = _visible(request, incident_id)
    try:
        since = int(request.GET.get("since", "0"))
        if since < 0:
            raise ValueError
    except ValueError:
        return JsonResponse({"since": ["must be a whole number >= 0"]}, status=400)
    times = ("impact_started_at", "detected_at", "acknowledged_at", "resolved_at")
    entries = []
    for event in selectors.incident_events(incident, after_seq=since):
        entries.append({**describe.entry(event), "at_display": _display(event.at)})
    return JsonResponse(
        {
            "id": incident.pk,
            "status": incident.status,
            "is_open": incident.status != IncidentStatus.RESOLVED,
            "severity": incident.severity,
            "title": incident.title,
            "assignee": incident.assignee.get_username() if incident.assignee else None,
            "times": {
                name: {
                    "at": getattr(incident, name).isoformat() if getattr(incident, name) else None,
                    "display": _display(getattr(incident, name)),
                }
                for name in times
            },
            "last_seq": incident.last_seq,
            "events": entries,
        }
    )


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
            "open": [
                _row(i) for i in selectors.open_incidents(request.user)[: selectors.OPEN_LIST_LIMIT]
            ],
            "resolved": [_row(i) for i in selectors.recently_resolved(request.user)],
        }
    )
