"""Grafana unified alerting webhook contact point (payload version 1, Grafana 9 to 11).

Grafana sends the Alertmanager webhook shape plus a few fields of its own: each alert's
query `values`, and links to its rule, dashboard, panel, silence form and screenshot.
As with Alertmanager, `groupKey` names the incident and each alert's `fingerprint` names
the alert inside it.
"""

from __future__ import annotations

from collections.abc import Mapping

from incidents.alerts import AlertEvent, AlertStatus, Link, PayloadError
from incidents.intake.sources import alertmanager
from incidents.intake.sources.common import (
    bounded,
    parse_time,
    severity_from,
    stable_fingerprint,
    string_map,
    without_nul,
)

SOURCE = "grafana"
HEARTBEAT_ALERTNAMES = frozenset({"Watchdog", "DeadMansSwitch"})
MAX_TEXT = 1000
MAX_FINGERPRINT = 200
# (alert field, link text), in the order a responder wants them.
LINKS = (
    ("generatorURL", "Alert rule"),
    ("dashboardURL", "Dashboard"),
    ("panelURL", "Panel"),
    ("imageURL", "Image"),
    ("silenceURL", "Silence"),
)
STRING_FIELDS = ("fingerprint", "valueString", *(name for name, _ in LINKS))


def validate(payload: object, options: Mapping | None = None) -> list[str]:
    """Field errors that make the payload unusable; empty when it can be accepted."""
    return alertmanager.validate_group(
        payload, string_fields=STRING_FIELDS, check_alert=_check_values
    )


def _check_values(alert: dict, where: str, errors: list[str]) -> None:
    _values(alert.get("values"), f"{where}.values", errors)


def parse(payload: object, options: Mapping | None = None) -> list[AlertEvent]:
    errors = validate(payload, options)
    if errors:
        raise PayloadError(errors)
    payload = without_nul(payload)
    assert isinstance(payload, dict)
    group_labels = string_map(payload.get("groupLabels"), "groupLabels", [])
    receiver = str(payload.get("receiver") or "")
    group_key = payload.get("groupKey") or stable_fingerprint(receiver, group_labels)
    group_title = payload.get("title") if isinstance(payload.get("title"), str) else ""
    truncated = payload.get("truncatedAlerts", 0)
    events = []
    for alert in payload["alerts"]:
        labels = string_map(alert.get("labels"), "labels", errors)
        annotations = string_map(alert.get("annotations"), "annotations", errors)
        # The evaluated query values (`value.B` = "44.2"), next to what the rule author wrote.
        for name, number in sorted(_values(alert.get("values"), "values", errors).items()):
            annotations.setdefault(f"value.{name}", str(number))
        if alert.get("valueString"):
            annotations.setdefault("valueString", alert["valueString"])
        alertname = labels.get("alertname", "")
        title = annotations.get("summary") or annotations.get("title") or alertname or group_title
        events.append(
            AlertEvent(
                source=SOURCE,
                incident_key=bounded(group_key, MAX_TEXT),
                fingerprint=bounded(
                    alert.get("fingerprint") or stable_fingerprint(labels), MAX_FINGERPRINT
                ),
                status=AlertStatus(alert["status"]),
                title=(title or "Grafana alert")[:MAX_TEXT],
                severity=severity_from(labels.get("severity")),
                labels=labels,
                annotations=annotations,
                starts_at=parse_time(alert.get("startsAt"), "startsAt", errors),
                ends_at=parse_time(alert.get("endsAt"), "endsAt", errors),
                links=tuple(Link(alert[name], text) for name, text in LINKS if alert.get(name)),
                heartbeat=alertname in HEARTBEAT_ALERTNAMES,
                group_truncated=truncated,
            )
        )
    return events


def _values(value: object, field: str, errors: list[str]) -> dict[str, int | float]:
    """Grafana's `values`: query ref id -> number; null when the rule has no numeric result."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(f"{field}: expected an object of numbers")
        return {}
    numbers = {}
    for name, number in value.items():
        if isinstance(number, bool) or not isinstance(number, int | float):
            errors.append(f"{field}.{name}: expected a number")
        else:
            numbers[str(name)] = number
    return numbers
