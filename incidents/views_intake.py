"""Intake pages for managers: failed deliveries, kept with their error and retryable."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from incidents import services
from incidents.models import AlertDelivery, DeliveryStatus
from oncall import permissions
from oncall.selectors import teams_for


def _failed_for(user):
    return AlertDelivery.objects.filter(
        status=DeliveryStatus.FAILED, integration__service__team__in=teams_for(user)
    ).select_related("integration__service__team")


@login_required
@require_GET
def failed_deliveries(request):
    deliveries = _failed_for(request.user).order_by("-received_at")
    page = Paginator(deliveries, 50).get_page(request.GET.get("page"))
    manageable = {
        team_id
        for team_id in {d.integration.service.team_id for d in page}
        if permissions.can_manage(request.user, team_id)
    }
    return render(
        request,
        "incidents/failed_deliveries.html",
        {"page": page, "manageable": manageable},
    )


@login_required
@require_POST
def delivery_retry(request, delivery_id: int):
    delivery = _failed_for(request.user).filter(pk=delivery_id).first()
    if delivery is None:
        raise Http404("no such failed delivery")
    if not permissions.can_manage(request.user, delivery.integration.service.team_id):
        raise PermissionDenied("only the team's managers can retry deliveries")
    services.delivery_retry(delivery=delivery)
    messages.info(request, f"Delivery {delivery.pk} queued again.")
    return redirect("failed-deliveries")
