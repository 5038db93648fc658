"""Alert webhooks. They only authenticate, check and store the body, then answer 202;
parsing and incident work happen in a Celery worker (see incidents.intake.drain).

PagerDuty events are also taken at `/v2/enqueue`, PagerDuty's own path with the token as
the body's `routing_key`, and are answered as PagerDuty answers, so its client libraries
work unchanged when pointed at our base URL.

Each webhook is a function from a `HookRequest` (the little of an HTTP request a webhook
reads) to an `Answer` (status, JSON body, extra headers), served two ways: by the Django
views of incidents.intake.views (the URLconf, the test client), and in production by
`config.hook_front.HookFront`, which answers the webhook paths in front of Django's
request handling because intake must cost about what a bare request costs
(docs/architecture.md, "Why the webhooks skip Django's request handling").
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from core.parsers import MAX_DEPTH, json_depth
from incidents.intake import sources, store
from incidents.intake.store import log_database_failure, on_live_connection
from incidents.models import Integration, hash_token

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HookRequest:
    """What a webhook reads of an HTTP request."""

    method: str  # upper case
    content_type: str  # the media type, lower case, without parameters
    content_length: str  # the Content-Length header as sent; "" when there is none
    authorization: str  # the Authorization header; "" when there is none
    read: Callable[[int], bytes]  # up to n bytes of the body (at most Content-Length)


@dataclass(frozen=True)
class Answer:
    """What a webhook answers: a JSON body with a status and maybe a few headers."""

    status: int
    body: dict
    headers: tuple[tuple[str, str], ...] = ()


def _error(status: int, message: str, **extra) -> Answer:
    return Answer(status, {"status": "error", "message": message, **extra})


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _too_deep() -> Answer:
    return _error(400, f"body is nested deeper than {MAX_DEPTH} levels")


def _bearer(request: HookRequest) -> str:
    scheme, _, credentials = request.authorization.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def authenticate(source: str | None, token: str) -> Integration | None:
    """The enabled integration with this token (of this source; any source when None)."""
    if not token:
        return None
    digest = hash_token(token)
    integrations = Integration.objects.filter(token_hash=digest, enabled=True)
    if source is not None:
        integrations = integrations.filter(source=source)
    integration = integrations.first()
    if integration is None or not hmac.compare_digest(integration.token_hash, digest):
        return None
    return integration


def read_json(request: HookRequest) -> tuple[object, Answer | None]:
    """Read the body within the size limit and decode strict JSON, or say what is wrong."""
    limit = settings.PAGERLINE_MAX_BODY_BYTES
    try:
        declared = int(request.content_length or 0)
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
    except RecursionError:  # far deeper than MAX_DEPTH: json recurses once per level
        return None, _too_deep()
    except ValueError as exc:
        return None, _error(400, f"body is not valid JSON: {exc}")
    if json_depth(payload) > MAX_DEPTH:
        return None, _too_deep()
    return (payload, text), None


def _refuse_method(request: HookRequest) -> Answer | None:
    if request.method != "POST":
        return Answer(405, {"status": "error", "message": "use POST"}, (("Allow", "POST"),))
    return None


def _refuse_content_type(request: HookRequest) -> Answer | None:
    content_type = request.content_type
    if content_type != "application/json" and not content_type.endswith("+json"):
        return _error(415, "Content-Type must be application/json")
    return None


def _find_integration(source: str | None, token: str) -> tuple[Integration | None, Answer | None]:
    try:
        return on_live_connection(lambda: authenticate(source, token)), None
    except DatabaseError as exc:
        log_database_failure(log, "database unavailable while authenticating a webhook", exc)
        return None, _unavailable()


class Answers:
    """How a webhook answers: Pagerline's own shape, used by most senders."""

    def accepted(self, delivery_id: int, extra: dict) -> Answer:
        return Answer(202, {"status": "accepted", "delivery": delivery_id, **extra})

    def invalid(self, source: str, errors: list[str]) -> Answer:
        return _error(400, f"payload is not a valid {source} webhook", errors=errors)

    def unknown_integration(self, status: int = 404) -> Answer:
        return _error(status, "no such integration")


class PagerDutyAnswers(Answers):
    """PagerDuty Events API v2 answers, which its client libraries read."""

    def accepted(self, delivery_id: int, extra: dict) -> Answer:
        return Answer(202, {"status": "success", "message": "Event processed", **extra})

    def invalid(self, source: str, errors: list[str]) -> Answer:
        body = {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
        return Answer(400, body)

    def unknown_integration(self, status: int = 404) -> Answer:
        body = {
            "status": "invalid event",
            "message": "Routing key is invalid",
            "errors": ["routing_key: no integration has this routing key"],
        }
        return Answer(status, body)


ANSWERS = {"pagerduty": PagerDutyAnswers()}
# Sources taken only at their own API's paths: the Opsgenie parser reads the envelope that
# incidents.intake.opsgenie_api stores (the action is in Opsgenie's URL, not in the body).
API_ONLY = {"opsgenie"}
DEFAULT_ANSWERS = Answers()


def alert_hook(request: HookRequest, source: str, token: str = "") -> Answer:
    """`/hooks/<source>/<token>`, or the token as a bearer header."""
    problem = _refuse_method(request)
    if problem:
        return problem
    if source not in sources.REGISTRY or source in API_ONLY:
        return _error(404, "no such integration")
    problem = _refuse_content_type(request)
    if problem:
        return problem
    answers = ANSWERS.get(source, DEFAULT_ANSWERS)
    token = token or _bearer(request)
    if not token:
        return answers.unknown_integration()
    integration = None
    if sources.get(source).validate_uses_options:
        # Validation depends on the integration's options: find it before reading the body.
        integration, problem = _find_integration(source, token)
        if problem:
            return problem
        if integration is None:
            return answers.unknown_integration()
    decoded, problem = read_json(request)
    if problem:
        return problem
    payload, text = decoded
    return _accept(
        source=source,
        token=token,
        integration=integration,
        payload=payload,
        text=text,
        answers=answers,
    )


def enqueue_hook(request: HookRequest) -> Answer:
    """`POST /v2/enqueue`: PagerDuty's path; the body's routing_key is the token."""
    problem = _refuse_method(request) or _refuse_content_type(request)
    if problem:
        return problem
    decoded, problem = read_json(request)
    if problem:
        return problem
    payload, text = decoded
    answers = ANSWERS["pagerduty"]
    routing_key = payload.get("routing_key") if isinstance(payload, dict) else None
    if routing_key is not None and not isinstance(routing_key, str):
        return answers.invalid("pagerduty", ["routing_key: must be a string"])
    if not routing_key:
        return answers.invalid("pagerduty", ["routing_key: is required"])
    return _accept(
        source="pagerduty",
        token=routing_key,
        payload=payload,
        text=text,
        answers=answers,
        unknown_status=400,  # PagerDuty answers an unknown routing key with 400, not 404.
    )


def _accept(
    *,
    source: str,
    token: str,
    payload: object,
    text: str,
    answers: Answers,
    integration: Integration | None = None,
    unknown_status: int = 404,
) -> Answer:
    """Validate and prepare one delivery, then store it and answer the sender.

    Without an `integration`, storing also authenticates: one statement inserts the body
    for the enabled integration of this source and token, if there is one.
    """
    kind = sources.get(source)
    errors = kind.validate(payload, integration.options if integration else None)
    if errors:
        return answers.invalid(source, errors)
    prepared, extra = kind.prepare(payload)
    # Store what processing must see (e.g. a generated dedup_key); an untouched body is
    # stored exactly as it arrived.
    body = text if prepared is payload else json.dumps(prepared)
    try:
        delivery_id = store.delivery_accept(
            integration=integration,
            source=source,
            token=token,
            body=body,
            received_at=timezone.now(),
        )
    except DatabaseError as exc:
        log_database_failure(log, "database unavailable while storing a delivery", exc)
        return _unavailable()
    if delivery_id is None:
        return answers.unknown_integration(unknown_status)
    return answers.accepted(delivery_id, extra)


def _unavailable() -> Answer:
    return Answer(
        503,
        {"status": "error", "message": "storage is unavailable; retry later"},
        (("Retry-After", "5"),),
    )
