"""The intake pages and endpoints: the Django views of the alert webhooks (thin: they
turn a request into a `webhooks.HookRequest` and its `Answer` into a response; the same
functions answer in front of Django in config.hook_front), and the failed-deliveries page
where a manager sees and retries what could not be parsed.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import DatabaseError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from incidents.intake import apply, drain, retention
from incidents.intake.webhooks import (
    Answer,
    HookRequest,
    _error,
    _find_integration,
    _unavailable,
    alert_hook,
    enqueue_hook,
)
from incidents.models import AlertDelivery, DeliveryStatus
from oncall import permissions
from oncall.selectors import managed_teams, teams_for

log = logging.getLogger(__name__)


# --- the Django views -------------------------------------------------------------------------


def hook_request(request) -> HookRequest:
    return HookRequest(
        method=request.method,
        content_type=request.content_type or "",
        content_length=request.META.get("CONTENT_LENGTH") or "",
        authorization=request.headers.get("Authorization", ""),
        read=request.read,
    )


def json_response(answer: Answer) -> JsonResponse:
    response = JsonResponse(answer.body, status=answer.status)
    for name, value in answer.headers:
        response[name] = value
    return response


@csrf_exempt
def alert_webhook(request, source: str, token: str = ""):
    return json_response(alert_hook(hook_request(request), source, token))


@csrf_exempt
def pagerduty_enqueue(request):
    return json_response(enqueue_hook(hook_request(request)))


@csrf_exempt
def heartbeat(request, token: str):
    """`/hooks/heartbeat/<token>`: any integration's token says its monitoring is alive.
    GET works too, so a cron job's `curl` can ping it."""
    if request.method not in {"GET", "HEAD", "POST"}:
        body = {"status": "error", "message": "use GET or POST"}
        return json_response(Answer(405, body, (("Allow", "GET, HEAD, POST"),)))
    integration, problem = _find_integration(None, token)
    if problem:
        return json_response(problem)
    if integration is None:
        return json_response(_error(404, "no such integration"))
    try:
        apply.integration_heartbeat(integration=integration, at=timezone.now())
    except DatabaseError:
        log.exception("database unavailable while recording a heartbeat")
        return json_response(_unavailable())
    return JsonResponse({"status": "ok"})


# (from incidents.intake.views)


def _failed_for(user):
    return AlertDelivery.objects.filter(
        status=DeliveryStatus.FAILED, integration__service__team__in=teams_for(user)
    ).select_related("integration__service__team")


@login_required
@require_GET
def failed_deliveries(request):
    deliveries = _failed_for(request.user).order_by("-received_at")
    page = Paginator(deliveries, 50).get_page(request.GET.get("page"))
    shown = {d.integration.service.team_id for d in page}
    manageable = set(managed_teams(request.user).filter(pk__in=shown).values_list("pk", flat=True))
    return render(
        request,
        "incidents/failed_deliveries.html",
        {
            "page": page,
            "manageable": manageable,
            "retention_days": settings.PAGERLINE_DELIVERY_RETENTION_DAYS,
        },
    )


@login_required
@require_POST
def delivery_retry(request, delivery_id: int):
    delivery = _failed_for(request.user).filter(pk=delivery_id).first()
    if delivery is None:
        raise Http404("no such failed delivery")
    if not permissions.can_manage(request.user, delivery.integration.service.team_id):
        raise PermissionDenied("only the team's managers can retry deliveries")
    drain.delivery_retry(delivery=delivery)
    messages.info(request, f"Delivery {delivery.pk} queued again.")
    return redirect("failed-deliveries")


@login_required
@require_POST
def delivery_dismiss(request, delivery_id: int):
    delivery = _failed_for(request.user).filter(pk=delivery_id).first()
    if delivery is None:
        raise Http404("no such failed delivery")
    if not permissions.can_manage(request.user, delivery.integration.service.team_id):
        raise PermissionDenied("only the team's managers can dismiss deliveries")
    retention.delivery_dismiss(delivery=delivery, actor=request.user)
    days = settings.PAGERLINE_DELIVERY_RETENTION_DAYS
    messages.info(request, f"Delivery {delivery.pk} dismissed; its body is removed in {days} days.")
    return redirect("failed-deliveries")
