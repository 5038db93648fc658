"""Alert webhooks. The view only authenticates, checks and stores the body, then answers
202; parsing and incident work happen in a Celery worker (see incidents.services)."""

from __future__ import annotations

import hmac
import json
import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from incidents import services, sources
from incidents.models import Integration, hash_token

log = logging.getLogger(__name__)

MAX_DEPTH = 32


def _error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"status": "error", "message": message, **extra}, status=status)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _depth(value: object, limit: int) -> int:
    """Nesting depth of a JSON value, stopping early once past `limit`."""
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest


def _bearer(request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def authenticate(source: str, token: str) -> Integration | None:
    if not token:
        return None
    digest = hash_token(token)
    integration = (
        Integration.objects.select_related("service")
        .filter(token_hash=digest, source=source, enabled=True)
        .first()
    )
    if integration is None or not hmac.compare_digest(integration.token_hash, digest):
        return None
    return integration


def read_json(request) -> tuple[object, JsonResponse | None]:
    """Read the body within the size limit and decode strict JSON, or say what is wrong."""
    limit = settings.PAGERLINE_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None, _error(400, "Content-Length is not a number")
    if declared > limit:
        return None, _error(413, f"body is larger than {limit} bytes")
    raw = request.read(limit + 1)
    if len(raw) > limit:
        return None, _error(413, f"body is larger than {limit} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, _error(400, "body is not valid UTF-8")
    try:
        payload = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        return None, _error(400, f"body is not valid JSON: {exc}")
    if _depth(payload, MAX_DEPTH) > MAX_DEPTH:
        return None, _error(400, f"body is nested deeper than {MAX_DEPTH} levels")
    return (payload, text), None


@csrf_exempt
def alert_webhook(request, source: str, token: str = ""):
    if request.method != "POST":
        response = _error(405, "use POST")
        response["Allow"] = "POST"
        return response
    if source not in sources.REGISTRY:
        return _error(404, "no such integration")
    content_type = request.content_type or ""
    if content_type != "application/json" and not content_type.endswith("+json"):
        return _error(415, "Content-Type must be application/json")
    try:
        integration = authenticate(source, token or _bearer(request))
    except DatabaseError:
        log.exception("database unavailable while authenticating a webhook")
        return _unavailable()
    if integration is None:
        return _error(404, "no such integration")
    decoded, problem = read_json(request)
    if problem:
        return problem
    payload, text = decoded
    errors = sources.get(source).validate(payload, integration.options)
    if errors:
        return _error(400, "payload is not a valid " + source + " webhook", errors=errors)
    try:
        delivery = services.delivery_accept(
            integration=integration, body=text, received_at=timezone.now()
        )
    except DatabaseError:
        log.exception("database unavailable while storing a delivery")
        return _unavailable()
    return JsonResponse({"status": "accepted", "delivery": delivery.pk}, status=202)


def _unavailable() -> JsonResponse:
    response = _error(503, "storage is unavailable; retry later")
    response["Retry-After"] = "5"
    return response
