"""HTML actions that change a service's configuration: which escalation policy pages for it
(a button on the policy's page). The rules are in incidents.catalog.changes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from core.errors import FieldErrors
from core.fields import form_text
from incidents.catalog import changes
from incidents.escalation.views import managed_policy
from incidents.models import Service


@login_required
@require_POST
def policy_services(request, policy_id: int):
    """Make the policy page for a service of its team (use=1), or stop (use=0: the service
    then pages nobody until it gets another policy)."""
    policy = managed_policy(request, policy_id)
    service = Service.objects.filter(
        team_id=policy.team_id, slug=form_text(request.POST, "service")
    ).first()
    if service is None:
        messages.error(request, "Choose one of the team's services.")
        return redirect("escalation-policy-detail", policy_id=policy.pk)
    use = request.POST.get("use") == "1"
    if not use and service.escalation_policy_id != policy.pk:
        messages.error(request, f"{service.name} does not use this policy.")
        return redirect("escalation-policy-detail", policy_id=policy.pk)
    try:
        changes.service_update(
            actor=request.user, service=service, escalation_policy_id=policy.pk if use else None
        )
    except FieldErrors as exc:
        messages.error(request, str(exc))
    else:
        if use:
            messages.success(request, f"{service.name} now pages through {policy.name}.")
        else:
            messages.success(request, f"{service.name} has no escalation policy: nobody is paged.")
    return redirect("escalation-policy-detail", policy_id=policy.pk)
