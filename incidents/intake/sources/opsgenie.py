"""Opsgenie Alert API (create, close, acknowledge, add note), as monitoring tools send it.

Opsgenie's requests carry their action in the URL (`POST /v2/alerts`, `.../{identifier}/close`),
so the view (incidents.intake.opsgenie_api) stores an envelope, the one body this parser reads:

    {"action": "create" | "close" | "acknowledge" | "note",
     "requestId": "<uuid>",               # what the sender was told; its request status
     "identifier": "...",                  # close / acknowledge / note: the alert's alias
     "alert": {...}}                       # the sender's JSON body, unchanged

The alert's `alias` is the incident key and the alert's fingerprint (Opsgenie's dedup key);
a create without one gets the request id as its alias (`prepare` in the view), so each such
create is a new alert, as in Opsgenie. Pagerline's alert id *is* the alias: an identifier of
type `id` or `alias` names the same alert (`tiny` is resolved by the view to the alias).
"""

from __future__ import annotations

from collections.abc import Mapping

from incidents.alerts import AlertEvent, AlertStatus, PayloadError, Severity
from incidents.intake.sources.common import bounded, string_map, without_nul

SOURCE = "opsgenie"
ACTIONS = {
    "create": AlertStatus.FIRING,
    "close": AlertStatus.RESOLVED,
    "acknowledge": AlertStatus.ACKNOWLEDGED,
    "note": AlertStatus.NOTE,
}
# Opsgenie's priorities, P1 the most urgent; P3 is Opsgenie's default.
SEVERITIES = {
    "P1": Severity.CRITICAL,
    "P2": Severity.ERROR,
    "P3": Severity.WARNING,
    "P4": Severity.INFO,
    "P5": Severity.INFO,
}
DEFAULT_PRIORITY = "P3"
# Opsgenie's documented limits (Alert API, "Create Alert" request fields).
LIMITS = {
    "alias": 512,
    "description": 15000,
    "entity": 512,
    "source": 100,
    "user": 100,
    "note": 25000,
}
MAX_TEXT = 1000
MAX_FINGERPRINT = 200


def validate(payload: object, options: Mapping | None = None) -> list[str]:
    """Field errors of the envelope and the sender's body; empty when it can be accepted.
    Field names are Opsgenie's, as its 422 answers name them."""
    if not isinstance(payload, dict):
        return ["body: must be a JSON object"]
    action = payload.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        return ["action: must be one of create, close, acknowledge, note"]
    alert = payload.get("alert")
    if not isinstance(alert, dict):
        return ["body: must be a JSON object"]
    errors: list[str] = []
    if action == "create":
        message = alert.get("message")
        if not isinstance(message, str) or not message.strip():
            errors.append("message: Message can not be empty.")
        for name in ("alias", "description", "entity", "source", "user", "note"):
            _text(alert.get(name), name, errors)
        priority = alert.get("priority")
        if priority is not None and (not isinstance(priority, str) or priority not in SEVERITIES):
            errors.append("priority: must be one of P1, P2, P3, P4, P5")
        tags = alert.get("tags")
        if tags is not None and (
            not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags)
        ):
            errors.append("tags: must be a list of strings")
        details = alert.get("details")
        if details is not None and not isinstance(details, dict):
            errors.append("details: must be an object of strings")
    else:
        identifier = payload.get("identifier")
        if not isinstance(identifier, str) or not identifier.strip():
            errors.append("identifier: is required")
        for name in ("source", "user", "note"):
            _text(alert.get(name), name, errors)
        if action == "note" and not (isinstance(alert.get("note"), str) and alert["note"].strip()):
            errors.append("note: Note can not be empty.")
    return errors


def _text(value: object, name: str, errors: list[str]) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        errors.append(f"{name}: must be a string")
    elif len(value) > LIMITS[name]:
        errors.append(f"{name}: must be at most {LIMITS[name]} characters")


def parse(payload: object, options: Mapping | None = None) -> list[AlertEvent]:
    errors = validate(payload, options)
    if errors:
        raise PayloadError(errors)
    envelope = without_nul(payload)
    assert isinstance(envelope, dict)
    action = envelope["action"]
    alert = envelope["alert"]
    note = alert.get("note") or ""
    actor = alert.get("user") or alert.get("source") or ""
    if action != "create":
        key = envelope["identifier"].strip()
        return [
            AlertEvent(
                source=SOURCE,
                incident_key=bounded(key, MAX_TEXT),
                fingerprint=bounded(key, MAX_FINGERPRINT),
                status=ACTIONS[action],
                title=key[:MAX_TEXT],
                note=_note(note, actor),
            )
        ]
    key = (alert.get("alias") or "").strip() or str(envelope.get("requestId") or "")
    priority = alert.get("priority") or DEFAULT_PRIORITY
    labels = string_map(alert.get("details"), "details", [])
    labels.update(
        {
            name: alert[name]
            for name in ("entity", "source")
            if isinstance(alert.get(name), str) and alert[name]
        }
    )
    labels["priority"] = priority
    if alert.get("tags"):
        labels["tags"] = ",".join(alert["tags"])
    annotations = {"description": alert["description"]} if alert.get("description") else {}
    return [
        AlertEvent(
            source=SOURCE,
            incident_key=bounded(key, MAX_TEXT),
            fingerprint=bounded(key, MAX_FINGERPRINT),
            status=AlertStatus.FIRING,
            title=alert["message"].strip()[:MAX_TEXT],
            severity=SEVERITIES[priority],
            labels=labels,
            annotations=annotations,
            note=_note(note, actor),
        )
    ]


def _note(note: str, actor: str) -> str:
    note = note.strip()
    if not note:
        return ""
    return f"{note}\n\n— {actor} (Opsgenie API)" if actor else note
