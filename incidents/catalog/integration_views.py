"""HTML pages for a service's integrations, under /services/<slug>/integrations/: members
read them; managers create, rotate, send test alerts, and edit routing rules and (Opsgenie
integrations) named heartbeats. The rules are
in incidents.catalog.changes, shared with the API and the create_integration command.

A token exists in plain text only in the answer to the request that made it (creation or
rotation): only its hash is stored, so later visits cannot show the URL again."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import FieldErrors
from incidents.catalog import changes, selectors
from incidents.catalog.forms import (
    IntegrationForm,
    NamedHeartbeatEditForm,
    NamedHeartbeatForm,
    RoutingRuleForm,
    matchers_text,
)
from incidents.intake.heartbeats import (
    named_heartbeat_create,
    named_heartbeat_delete,
    named_heartbeat_update,
)
from incidents.models import Integration, NamedHeartbeat, Service, SourceKind
from incidents.timeline.selectors import services_for
from oncall.permissions import can_manage


def _service(request, slug: str) -> Service:
    service = services_for(request.user).filter(slug=slug).first()
    if service is None:
        raise Http404("no such service")
    return service


def _require_manager(request, service: Service) -> None:
    if not can_manage(request.user, service.team_id):
        raise PermissionDenied("only the team's managers change its integrations")


def _integration(request, slug: str, integration_id: int) -> Integration:
    service = _service(request, slug)
    integration = (
        Integration.objects.filter(service=service, pk=integration_id)
        .select_related("service__team")
        .first()
    )
    if integration is None:
        raise Http404("no such integration")
    return integration


@login_required
@require_http_methods(["GET", "POST"])
def integration_list(request, slug: str):
    """The service's integrations and, for managers, the form that adds one."""
    service = _service(request, slug)
    manager = can_manage(request.user, service.team_id)
    status = 200
    if request.method == "POST":
        _require_manager(request, service)
        form = IntegrationForm(request.POST)
        if form.is_valid() and not _first_submission(request, form.cleaned_data["submission"]):
            messages.info(
                request,
                "That form was sent already and its integration exists (listed below). If "
                "you did not copy its URL, open it and make a new token.",
            )
            return redirect("integration-list", slug=service.slug)
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if k != "submission"}
            try:
                integration, token = changes.integration_add(
                    actor=request.user, service=service, **fields
                )
            except FieldErrors as exc:
                exc.add_to_form(form)
            else:
                messages.success(request, f"Integration {integration.name} created.")
                return _detail(request, integration, token=token)
        status = 400
    else:
        form = IntegrationForm()
    context = {
        "service": service,
        "integrations": selectors.service_integrations(service),
        "can_manage": manager,
        "form": form,
    }
    return render(request, "incidents/integration_list.html", context, status=status)


def _first_submission(request, submission: str) -> bool:
    """False when this user already sent the form rendered with `submission` (within a
    day): the browser's reload of the answer. Kept in the shared cache, so any web process
    knows it; if the cache is down, the form goes through (at worst a second integration,
    as before)."""
    if not submission:
        return True
    key = f"integration-form:{request.user.pk}:{submission}"
    try:
        return bool(cache.add(key, 1, timeout=86_400))
    except Exception:
        return True


def _detail(
    request,
    integration: Integration,
    *,
    token: str = "",
    rule_form=None,
    heartbeat_form=None,
    status=200,
):
    """The integration's page; with `token` (only in the answer that made it) the webhook
    URL and what to paste into the sender."""
    service = integration.service
    manager = can_manage(request.user, service.team_id)
    team_services = list(Service.objects.filter(team_id=service.team_id).order_by("name"))
    if manager and rule_form is None:
        rule_form = RoutingRuleForm(services=team_services, initial={"service": service.slug})
    rules = [
        (rule, matchers_text(rule.matchers))
        for rule in selectors.integration_routing_rules(integration)
    ]
    opsgenie = integration.source == SourceKind.OPSGENIE
    if manager and opsgenie and heartbeat_form is None:
        heartbeat_form = NamedHeartbeatForm()
    context = {
        "service": service,
        "integration": integration,
        "can_manage": manager,
        "opsgenie": opsgenie,
        "named_heartbeats": integration.named_heartbeats.all() if opsgenie else (),
        "heartbeat_form": heartbeat_form,
        "deliveries": selectors.recent_deliveries(integration),
        "recent_limit": selectors.RECENT_DELIVERIES,
        "rules": rules,
        "rule_form": rule_form,
    }
    if token:
        context["webhook_url"] = changes.webhook_url(integration=integration, token=token)
        context["snippets"] = changes.integration_snippets(integration=integration, token=token)
    response = render(request, "incidents/integration_detail.html", context, status=status)
    if token:
        # The answer holds a secret: no cache may keep it.
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def integration_detail(request, slug: str, integration_id: int):
    return _detail(request, _integration(request, slug, integration_id))


@login_required
@require_POST
def integration_rotate(request, slug: str, integration_id: int):
    integration = _integration(request, slug, integration_id)
    _require_manager(request, integration.service)
    token = changes.integration_rotate(actor=request.user, integration=integration)
    messages.success(request, "New token made: the old webhook URL no longer works.")
    return _detail(request, integration, token=token)


@login_required
@require_POST
def integration_test(request, slug: str, integration_id: int):
    integration = _integration(request, slug, integration_id)
    _require_manager(request, integration.service)
    try:
        delivery_id = changes.integration_send_test(actor=request.user, integration=integration)
    except FieldErrors as exc:
        messages.error(request, f"No test alert sent: {exc}")
    else:
        messages.success(
            request,
            f"Test alert sent (delivery {delivery_id}); it opens or joins a [TEST] incident.",
        )
    return redirect(
        "integration-detail", slug=integration.service.slug, integration_id=integration.pk
    )


@login_required
@require_POST
def routing_rule_add(request, slug: str, integration_id: int):
    integration = _integration(request, slug, integration_id)
    service = integration.service
    _require_manager(request, service)
    team_services = list(Service.objects.filter(team_id=service.team_id).order_by("name"))
    form = RoutingRuleForm(request.POST, services=team_services)
    if form.is_valid():
        target = next(s for s in team_services if s.slug == form.cleaned_data["service"])
        try:
            changes.routing_rule_create(
                actor=request.user,
                integration=integration,
                matchers=form.cleaned_data["matchers"],
                service=target,
                position=form.cleaned_data["position"],
            )
        except FieldErrors as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, f"Routing rule added: matching alerts go to {target.name}.")
            return redirect("integration-detail", slug=service.slug, integration_id=integration.pk)
    return _detail(request, integration, rule_form=form, status=400)


@login_required
@require_POST
def routing_rule_remove(request, slug: str, integration_id: int, rule_id: int):
    integration = _integration(request, slug, integration_id)
    _require_manager(request, integration.service)
    rule = integration.routing_rules.filter(pk=rule_id).select_related("service").first()
    if rule is None:
        raise Http404("no such routing rule")
    changes.routing_rule_delete(actor=request.user, rule=rule)
    messages.success(request, "Routing rule removed.")
    return redirect(
        "integration-detail", slug=integration.service.slug, integration_id=integration.pk
    )


@login_required
@require_POST
def named_heartbeat_add(request, slug: str, integration_id: int):
    """Add a named heartbeat (Opsgenie integrations: pinged at /v2/heartbeats/<name>/ping)."""
    integration = _integration(request, slug, integration_id)
    _require_manager(request, integration.service)
    form = NamedHeartbeatForm(request.POST)
    if form.is_valid():
        try:
            heartbeat = named_heartbeat_create(
                actor=request.user,
                integration=integration,
                name=form.cleaned_data["name"],
                interval_seconds=form.cleaned_data["interval_minutes"] * 60,
            )
        except FieldErrors as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, f"Heartbeat {heartbeat.name} added.")
            return redirect(
                "integration-detail", slug=integration.service.slug, integration_id=integration.pk
            )
    return _detail(request, integration, heartbeat_form=form, status=400)


def _managed_heartbeat(request, slug: str, heartbeat_id: int) -> NamedHeartbeat:
    """A named heartbeat of one of the service's integrations, for its team's managers:
    404 for who cannot see the service, 403 for its other members."""
    service = _service(request, slug)
    heartbeat = (
        NamedHeartbeat.objects.filter(pk=heartbeat_id, integration__service=service)
        .select_related("integration__service")
        .first()
    )
    if heartbeat is None:
        raise Http404("no such heartbeat")
    _require_manager(request, service)
    return heartbeat


def _integration_page(heartbeat: NamedHeartbeat):
    integration = heartbeat.integration
    return redirect(
        "integration-detail", slug=integration.service.slug, integration_id=integration.pk
    )


@login_required
@require_http_methods(["GET", "POST"])
def named_heartbeat_edit(request, slug: str, heartbeat_id: int):
    """Change a named heartbeat's interval, description or whether it is watched; its
    deletion, behind a disclosure, is on the same page."""
    heartbeat = _managed_heartbeat(request, slug, heartbeat_id)
    status = 200
    if request.method == "POST":
        form = NamedHeartbeatEditForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                named_heartbeat_update(
                    actor=request.user,
                    heartbeat=heartbeat,
                    interval_seconds=data["interval_minutes"] * 60,
                    description=data["description"].strip(),
                    enabled=data["enabled"],
                )
            except FieldErrors as exc:
                exc.add_to_form(form)
            else:
                messages.success(request, f"Heartbeat {heartbeat.name} saved.")
                return _integration_page(heartbeat)
        heartbeat.refresh_from_db()
        status = 400
    else:
        form = NamedHeartbeatEditForm(
            initial={
                "interval_minutes": heartbeat.interval_seconds // 60,
                "description": heartbeat.description,
                "enabled": heartbeat.enabled,
            }
        )
    context = {
        "service": heartbeat.integration.service,
        "integration": heartbeat.integration,
        "heartbeat": heartbeat,
        "form": form,
    }
    return render(request, "incidents/heartbeat_edit.html", context, status=status)


@login_required
@require_POST
def named_heartbeat_remove(request, slug: str, heartbeat_id: int):
    heartbeat = _managed_heartbeat(request, slug, heartbeat_id)
    named_heartbeat_delete(actor=request.user, heartbeat=heartbeat)
    messages.success(request, f"Heartbeat {heartbeat.name} deleted: its pings are now ignored.")
    return _integration_page(heartbeat)
