"""The Opsgenie-compatible Alert and Heartbeat API: Opsgenie's paths, its `GenieKey`
authentication and its answers, so a sender only changes its base URL and key
(docs/sources.md, "Opsgenie").

Like every webhook, a request is only authenticated, checked and stored (as an envelope the
`opsgenie` parser reads, incidents.intake.sources.opsgenie), then answered 202: the delivery
is committed before the answer, and a Celery worker applies it under the rules every sender
follows (dedup by alias, out-of-order, zero loss). Its request id is the one Opsgenie's
"Get Request Status" takes.

These paths are served by Django (not config.hook_front): they are a migration aid, not the
hot intake path.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta

from django.db import DatabaseError
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from core.errors import FieldErrors
from incidents.intake import heartbeats, store
from incidents.intake.sources import opsgenie
from incidents.intake.views import hook_request
from incidents.intake.webhooks import authenticate, read_json
from incidents.models import AlertDelivery, DeliveryStatus, Incident, Integration, SourceKind

log = logging.getLogger(__name__)

ACCEPTED = "Request will be processed"
NOT_PROCESSED = "Request not found. It might not be processed, yet."
UNPROCESSABLE = "Request body is not processable. Please check the errors."
IDENTIFIER_TYPES = ("id", "alias", "tiny")
INTERVAL_UNITS = {"minutes": 60, "hours": 3600, "days": 86400}
# The words of Opsgenie's request status, per action.
STATUS_WORDS = {
    "create": ("Create", "Created alert"),
    "close": ("Close", "Closed alert"),
    "acknowledge": ("Acknowledge", "Acknowledged alert"),
    "note": ("AddNote", "Added note"),
}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Refused(Exception):
    """An Opsgenie-shaped error answer."""

    def __init__(self, status: int, message: str, errors: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


# A request id is a version-1 UUID (with a random node, not this host's address): the instant
# it carries bounds the deliveries a status lookup reads to those stored around it, however
# many the integration holds.
_UUID_EPOCH = datetime(1582, 10, 15, tzinfo=UTC)
_LOOKUP_BEFORE, _LOOKUP_AFTER = timedelta(seconds=5), timedelta(seconds=60)


def _request_id() -> str:
    return str(uuid.uuid1(node=secrets.randbits(48) | (1 << 40)))


def _issued_at(request_id: str) -> datetime | None:
    """When `request_id` was made, if it is one of ours (a version-1 UUID)."""
    try:
        parsed = uuid.UUID(request_id)
    except ValueError:
        return None
    if parsed.version != 1:
        return None
    return _UUID_EPOCH + timedelta(microseconds=parsed.time // 10)


def _answer(status: int, body: dict, started: float, request_id: str | None = None):
    """Opsgenie's envelope: every answer carries `took` (seconds) and a `requestId`."""
    body = {**body, "took": round(time.monotonic() - started, 3)}
    body["requestId"] = request_id or str(uuid.uuid4())
    return JsonResponse(body, status=status)


def _opsgenie_view(handler):
    """Authenticate the GenieKey, run `handler(request, integration, *args)`, and turn a
    Refused or an unavailable database into Opsgenie's error shape."""

    @csrf_exempt
    def view(request, *args, **kwargs):
        started = time.monotonic()
        try:
            integration = _integration(request)
            status, body, request_id = handler(request, integration, *args, **kwargs)
        except Refused as refused:
            body = {"message": refused.message}
            if refused.errors:
                body["errors"] = refused.errors
            return _answer(refused.status, body, started)
        except DatabaseError:
            log.exception("database unavailable on the Opsgenie API")
            response = _answer(503, {"message": "storage is unavailable; retry later"}, started)
            response["Retry-After"] = "5"
            return response
        return _answer(status, body, started, request_id)

    view.__name__ = view.__qualname__ = handler.__name__
    view.__doc__ = handler.__doc__
    return view


def _integration(request) -> Integration:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    key = key.strip()
    if scheme.lower() != "geniekey" or not key:
        raise Refused(
            401,
            "Could not authenticate: send the header 'Authorization: GenieKey <key>' "
            "with the key of an Opsgenie integration",
        )
    integration = store.on_live_connection(lambda: authenticate(None, key))
    if integration is None:
        raise Refused(401, "Could not authenticate: no enabled integration has this key")
    if integration.source != SourceKind.OPSGENIE:
        raise Refused(
            403,
            f"This key belongs to a {integration.get_source_display()} integration; the "
            "Opsgenie API takes the key of an Opsgenie integration",
        )
    return integration


def _body(request, *, empty_ok: bool) -> dict:
    """The JSON object sent; an action on an alert may come without a body."""
    if request.method != "POST":
        raise Refused(405, "use POST")
    if empty_ok and not request.headers.get("Content-Length", "").strip("0 "):
        return {}  # nothing sent (curl -X POST without -d)
    decoded, problem = read_json(hook_request(request))
    if problem:
        raise Refused(problem.status, problem.body["message"])
    payload, _ = decoded
    if not isinstance(payload, dict):
        raise Refused(422, UNPROCESSABLE, {"body": "must be a JSON object"})
    return payload


def _store(integration: Integration, envelope: dict) -> tuple[int, dict, str]:
    errors = opsgenie.validate(envelope)
    if errors:
        fields = dict(error.split(": ", 1) for error in errors)
        raise Refused(422, UNPROCESSABLE, fields)
    store.delivery_accept(
        integration=integration, body=json.dumps(envelope), received_at=timezone.now()
    )
    return 202, {"result": ACCEPTED}, envelope["requestId"]


def alert_create(request, integration: Integration):
    """`POST /v2/alerts`: a create; its alias is the dedup key."""
    payload = _body(request, empty_ok=False)
    request_id = _request_id()
    envelope = {"requestId": request_id, "action": "create", "alert": payload}
    return _store(integration, envelope)


def alert_action(request, integration: Integration, identifier: str, action: str):
    """`POST /v2/alerts/{identifier}/close|acknowledge|notes`."""
    payload = _body(request, empty_ok=action != "note")
    kind = request.GET.get("identifierType", "id")
    if kind not in IDENTIFIER_TYPES:
        raise Refused(422, UNPROCESSABLE, {"identifierType": "must be one of id, alias, tiny"})
    if kind == "tiny":
        identifier = _alias_of_tiny(integration, identifier)
    request_id = _request_id()
    envelope = {
        "requestId": request_id,
        "action": action,
        "identifier": identifier,
        "identifierType": kind,
        "alert": payload,
    }
    return _store(integration, envelope)


def _alias_of_tiny(integration: Integration, tiny: str) -> str:
    """Pagerline's tiny id of an alert is its incident's number (the incident id): the alias
    is that incident's dedup key, within the integration's team."""
    incident = None
    if tiny.isdigit():
        incident = Incident.objects.filter(
            pk=int(tiny), service__team_id=integration.service.team_id
        ).first()
    if incident is None:
        raise Refused(404, f"Alert with tiny id [{tiny}] does not exist")
    return incident.dedup_key


def request_status(request, integration: Integration, request_id: str):
    """`GET /v2/alerts/requests/{requestId}`: 404 until the request is processed, as
    Opsgenie answers; then whether it succeeded, with the alert's id and alias."""
    if request.method != "GET":
        raise Refused(405, "use GET")
    issued = _issued_at(request_id) if _UUID.match(request_id) else None
    if issued is None:
        raise Refused(404, NOT_PROCESSED)
    delivery = (
        AlertDelivery.objects.filter(
            integration=integration,
            received_at__gte=issued - _LOOKUP_BEFORE,
            received_at__lte=issued + _LOOKUP_AFTER,
            body__contains=f'"requestId": "{request_id}"',
        )
        .order_by("-pk")
        .first()
    )
    if delivery is None or delivery.status in (DeliveryStatus.PENDING, DeliveryStatus.PROCESSING):
        raise Refused(404, NOT_PROCESSED)
    envelope = json.loads(delivery.body)
    action, done = STATUS_WORDS.get(envelope.get("action"), ("Unknown", "Processed"))
    alias = envelope.get("identifier") or (envelope.get("alert") or {}).get("alias") or request_id
    success = delivery.status == DeliveryStatus.PROCESSED and not delivery.note
    data = {
        "success": success,
        "action": action,
        "processedAt": (delivery.processed_at or delivery.received_at).isoformat(),
        "integrationId": str(integration.pk),
        "isSuccess": success,
        "status": done if success else (delivery.note or delivery.error or "Failed"),
        "alertId": alias,
        "alias": alias,
    }
    return 200, {"data": data}, request_id


def heartbeat_ping(request, integration: Integration, name: str):
    """`GET|POST|PUT|PATCH /v2/heartbeats/{name}/ping`. Opsgenie answers a ping of a name it
    does not know as any other (it checks later, asynchronously); so does Pagerline."""
    if request.method not in {"GET", "HEAD", "POST", "PUT", "PATCH"}:
        raise Refused(405, "use GET or POST")
    heartbeats.named_heartbeat_ping(integration=integration, name=name, at=timezone.now())
    return 202, {"result": "PONG - Heartbeat received"}, None


def heartbeat_create(request, integration: Integration):
    """`POST /v2/heartbeats`: name, interval, intervalUnit (minutes, hours, days), enabled,
    description; the heartbeat belongs to the key's integration."""
    payload = _body(request, empty_ok=False)
    errors = {}
    name = payload.get("name")
    interval = payload.get("interval")
    unit = payload.get("intervalUnit", "minutes")
    enabled = payload.get("enabled", True)
    description = payload.get("description") or ""
    if not isinstance(name, str):
        errors["name"] = "Name can not be empty."
    if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
        errors["interval"] = "must be a positive whole number"
    if unit not in INTERVAL_UNITS:
        errors["intervalUnit"] = "must be one of minutes, hours, days"
    if not isinstance(enabled, bool):
        errors["enabled"] = "must be true or false"
    if not isinstance(description, str):
        errors["description"] = "must be a string"
    if errors:
        raise Refused(422, UNPROCESSABLE, errors)
    try:
        heartbeat = heartbeats.named_heartbeat_create(
            integration=integration,
            name=name,
            interval_seconds=interval * INTERVAL_UNITS[unit],
            description=description,
            enabled=enabled,
        )
    except FieldErrors as refused:
        raise Refused(422, UNPROCESSABLE, {field: text for field, text in refused.flat()}) from None
    data = {"name": heartbeat.name, "enabled": heartbeat.enabled, "expired": False}
    return 201, {"data": data}, None


create_view = _opsgenie_view(alert_create)
action_view = _opsgenie_view(alert_action)
request_status_view = _opsgenie_view(request_status)
heartbeat_ping_view = _opsgenie_view(heartbeat_ping)
heartbeat_create_view = _opsgenie_view(heartbeat_create)
