"""PagerDuty Events API v2 (alert events: trigger, acknowledge, resolve).

Each event names one alert by its `dedup_key`, which is both the incident key and the
alert's fingerprint. A trigger without a key gets a generated one before it is stored
(`prepare`), returned to the sender so it can acknowledge or resolve it later.
Validation follows PagerDuty's: every error names its field.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping

from incidents.alerts import AlertEvent, AlertStatus, Link, PayloadError, Severity
from incidents.intake.sources.common import (
    bounded,
    parse_time,
    stable_fingerprint,
    string_map,
    without_nul,
)

SOURCE = "pagerduty"
STATUSES = {
    "trigger": AlertStatus.FIRING,
    "acknowledge": AlertStatus.ACKNOWLEDGED,
    "resolve": AlertStatus.RESOLVED,
}
SEVERITIES = ("critical", "error", "warning", "info")
MAX_DEDUP_KEY = 255
MAX_SUMMARY = 1024
MAX_TEXT = 1000
MAX_FINGERPRINT = 200
LABEL_FIELDS = ("source", "severity", "component", "group", "class")


def validate(payload: object, options: Mapping | None = None) -> list[str]:
    """Field errors that make the event invalid; empty when it can be accepted.

    `routing_key` is not checked here: it authenticates the event, and the webhook view
    has already matched it (or the token in the URL) to an integration.
    """
    if not isinstance(payload, dict):
        return ["body: must be a JSON object"]
    errors: list[str] = []
    action = payload.get("event_action")
    if action is None:
        errors.append("event_action: is required")
    elif not isinstance(action, str) or action not in STATUSES:
        errors.append("event_action: must be one of trigger, acknowledge, resolve")
        action = None
    dedup_key = payload.get("dedup_key")
    if dedup_key is not None and not isinstance(dedup_key, str):
        errors.append("dedup_key: must be a string")
    elif isinstance(dedup_key, str) and len(dedup_key) > MAX_DEDUP_KEY:
        errors.append(f"dedup_key: must be at most {MAX_DEDUP_KEY} characters")
    elif action in {"acknowledge", "resolve"} and not dedup_key:
        errors.append(f"dedup_key: is required for {action}")
    if action == "trigger":
        _validate_trigger(payload, errors)
    return errors


def _validate_trigger(event: dict, errors: list[str]) -> None:
    payload = event.get("payload")
    if payload is None:
        errors.append("payload: is required")
    elif not isinstance(payload, dict):
        errors.append("payload: must be an object")
    else:
        summary = payload.get("summary")
        _required_text(summary, "payload.summary", errors)
        if isinstance(summary, str) and len(summary) > MAX_SUMMARY:
            errors.append(f"payload.summary: must be at most {MAX_SUMMARY} characters")
        _required_text(payload.get("source"), "payload.source", errors)
        if payload.get("severity") not in SEVERITIES:
            errors.append(f"payload.severity: must be one of {', '.join(SEVERITIES)}")
        timestamp = payload.get("timestamp")
        if timestamp is not None and not isinstance(timestamp, str):
            errors.append("payload.timestamp: must be an ISO 8601 timestamp string")
        else:
            parse_time(timestamp, "payload.timestamp", errors)
        for name in ("component", "group", "class"):
            _optional_text(payload.get(name), f"payload.{name}", errors)
        # custom_details is documented as an object but PagerDuty accepts any JSON value
        # (Grafana's legacy notifier sent a string for years), so any value is kept.
    for name in ("client", "client_url"):
        _optional_text(event.get(name), name, errors)
    for index, link in enumerate(_list(event.get("links"), "links", errors)):
        if _object(link, f"links[{index}]", errors):
            _required_text(link.get("href"), f"links[{index}].href", errors)
            _optional_text(link.get("text"), f"links[{index}].text", errors)
    for index, image in enumerate(_list(event.get("images"), "images", errors)):
        if _object(image, f"images[{index}]", errors):
            _required_text(image.get("src"), f"images[{index}].src", errors)
            _optional_text(image.get("href"), f"images[{index}].href", errors)
            _optional_text(image.get("alt"), f"images[{index}].alt", errors)


def prepare(payload: object) -> tuple[object, dict]:
    """The event as it is stored, and the `dedup_key` the sender is told.

    A trigger without a key gets a random one, as PagerDuty does, so that the stored event
    and the answer name the same alert. The routing key is a credential and is not stored.
    """
    if not isinstance(payload, dict):
        return payload, {}
    prepared = {key: value for key, value in payload.items() if key != "routing_key"}
    if not prepared.get("dedup_key"):
        prepared["dedup_key"] = uuid.uuid4().hex
    return prepared, {"dedup_key": prepared["dedup_key"]}


def parse(payload: object, options: Mapping | None = None) -> list[AlertEvent]:
    errors = validate(payload, options)
    if errors:
        raise PayloadError(errors)
    event = without_nul(payload)
    assert isinstance(event, dict)
    action = event["event_action"]
    # Stored events always carry a key (see prepare); this covers direct callers.
    dedup_key = event.get("dedup_key") or stable_fingerprint(event)
    details = event.get("payload") if isinstance(event.get("payload"), dict) else {}
    if action != "trigger":
        # PagerDuty ignores the payload of acknowledge and resolve; only its summary is
        # kept, for the timeline.
        summary = details.get("summary")
        title = summary if isinstance(summary, str) and summary.strip() else dedup_key
        return [
            AlertEvent(
                source=SOURCE,
                incident_key=bounded(dedup_key, MAX_TEXT),
                fingerprint=bounded(dedup_key, MAX_FINGERPRINT),
                status=STATUSES[action],
                title=title[:MAX_TEXT],
            )
        ]
    return [
        AlertEvent(
            source=SOURCE,
            incident_key=bounded(dedup_key, MAX_TEXT),
            fingerprint=bounded(dedup_key, MAX_FINGERPRINT),
            status=AlertStatus.FIRING,
            title=(details["summary"].strip() or dedup_key)[:MAX_TEXT],
            severity=Severity(details["severity"]),
            labels={name: details[name] for name in LABEL_FIELDS if details.get(name)},
            annotations=_annotations(details.get("custom_details")),
            starts_at=parse_time(details.get("timestamp"), "payload.timestamp", errors),
            links=_links(event),
        )
    ]


def _annotations(custom_details: object) -> dict[str, str]:
    """custom_details keys as annotations (nested values JSON-encoded); any other value as
    one `custom_details` annotation."""
    if custom_details is None:
        return {}
    if isinstance(custom_details, dict):
        return string_map(custom_details, "payload.custom_details", [])
    if isinstance(custom_details, str):
        return {"custom_details": custom_details}
    return {"custom_details": json.dumps(custom_details, sort_keys=True)}


def _links(event: dict) -> tuple[Link, ...]:
    links = [Link(link["href"], link.get("text") or "") for link in event.get("links") or ()]
    for image in event.get("images") or ():
        text = image.get("alt") or "Image"
        links.append(Link(image["src"], text))
        if image.get("href"):
            links.append(Link(image["href"], f"{text} (link)"))
    if event.get("client_url"):
        links.append(Link(event["client_url"], event.get("client") or "Client"))
    # A link whose address was nothing but NUL characters is left out.
    return tuple(link for link in links if link.href)


def _required_text(value: object, field: str, errors: list[str]) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append(f"{field}: is required")
    elif not isinstance(value, str):
        errors.append(f"{field}: must be a string")


def _optional_text(value: object, field: str, errors: list[str]) -> None:
    if value is not None and not isinstance(value, str):
        errors.append(f"{field}: must be a string")


def _list(value: object, field: str, errors: list[str]) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(f"{field}: must be a list")
        return []
    return value


def _object(value: object, field: str, errors: list[str]) -> bool:
    if not isinstance(value, dict):
        errors.append(f"{field}: must be an object")
        return False
    return True
