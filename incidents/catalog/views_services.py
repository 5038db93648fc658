"""HTML pages for services: those of the user's teams, creating one for a team the user
manages, and its settings (owning team, description, high-urgency severities, Slack channel,
escalation policy). The rules are in incidents.catalog.changes, shared with the API; a
service's figures are on the metrics service page (services/<slug>/)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import FieldErrors
from core.fields import form_text
from incidents.catalog import changes
from incidents.catalog.forms import ServiceForm
from incidents.models import Service
from incidents.timeline.selectors import services_for
from oncall import selectors
from oncall.permissions import can_manage


@login_required
@require_GET
def service_list(request):
    found = (
        services_for(request.user)
        .select_related("escalation_policy")
        .order_by("team__name", "name", "pk")
    )
    wanted = form_text(request.GET, "team")
    if wanted:
        found = found.filter(team__slug=wanted)
    managed_ids = set(selectors.managed_teams(request.user).values_list("pk", flat=True))
    rows = [{"service": s, "can_manage": s.team_id in managed_ids} for s in found]
    context = {"rows": rows, "can_create": bool(managed_ids), "team": wanted}
    return render(request, "incidents/service_list.html", context)


def _form_page(request, form: ServiceForm, *, service: Service | None, status: int = 200):
    context = {"form": form, "service": service}
    return render(request, "incidents/service_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def service_new(request):
    managed = list(selectors.managed_teams(request.user).order_by("name", "pk"))
    if request.method == "GET":
        if not managed:
            raise PermissionDenied("only team managers create services")
        wanted = form_text(request.GET, "team")
        initial = {"team": wanted} if any(t.slug == wanted for t in managed) else {}
        form = ServiceForm(teams=managed, initial=initial)
        return _form_page(request, form, service=None)
    slug = form_text(request.POST, "team")
    if not selectors.teams_for(request.user).filter(slug=slug).exists():
        raise Http404("no such team")
    if not any(team.slug == slug for team in managed):
        raise PermissionDenied("only the team's managers create its services")
    form = ServiceForm(request.POST, teams=managed)
    if form.is_valid():
        try:
            service = changes.service_create(actor=request.user, **form.values())
        except FieldErrors as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, f"Service {service.name} created.")
            return redirect("service-list")
    return _form_page(request, form, service=None, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def service_settings(request, slug: str):
    service = services_for(request.user).filter(slug=slug).first()
    if service is None:
        raise Http404("no such service")
    if not can_manage(request.user, service.team_id):
        raise PermissionDenied("only the team's managers change its services")
    if request.method == "GET":
        initial = {
            "name": service.name,
            "description": service.description,
            "high_urgency_severities": service.high_urgency_severities,
            "slack_channel": service.slack_channel,
            "escalation_policy": str(service.escalation_policy_id or ""),
        }
        form = ServiceForm(teams=[service.team], service=service, initial=initial)
        return _form_page(request, form, service=service)
    form = ServiceForm(request.POST, teams=[service.team], service=service)
    if form.is_valid():
        try:
            changes.service_update(actor=request.user, service=service, **form.values())
        except FieldErrors as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, f"Service {service.name} saved.")
            return redirect("service-list")
    return _form_page(request, form, service=service, status=400)
