"""Prometheus Alertmanager webhook (payload version 4).

Each POST is the full current snapshot of one alert group: `groupKey` names the
incident, each alert's `fingerprint` names the alert inside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from incidents.alerts import AlertEvent, AlertStatus, Link, PayloadError
from incidents.intake.sources.common import (
    bounded,
    parse_time,
    severity_from,
    stable_fingerprint,
    string_map,
    without_nul,
)

SOURCE = "alertmanager"
HEARTBEAT_ALERTNAMES = frozenset({"Watchdog", "DeadMansSwitch"})
MAX_TEXT = 1000


def validate(payload: object, options: Mapping | None = None) -> list[str]:
    """Field errors that make the payload unusable; empty when it can be accepted."""
    return validate_group(payload)


def validate_group(
    payload: object,
    *,
    string_fields: tuple[str, ...] = ("fingerprint", "generatorURL"),
    check_alert: Callable[[dict, str, list[str]], None] | None = None,
) -> list[str]:
    """Validate an Alertmanager-shaped group (also Grafana's); `check_alert` adds a
    sender's own per-alert checks."""
    if not isinstance(payload, dict):
        return ["body: expected a JSON object"]
    errors: list[str] = []
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        errors.append("alerts: expected a list")
        alerts = []
    group_key = payload.get("groupKey")
    if group_key is not None and not isinstance(group_key, str):
        errors.append("groupKey: expected a string")
    truncated = payload.get("truncatedAlerts", 0)
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated < 0:
        errors.append("truncatedAlerts: expected a non-negative integer")
    for index, alert in enumerate(alerts):
        where = f"alerts[{index}]"
        if not isinstance(alert, dict):
            errors.append(f"{where}: expected an object")
            continue
        if not isinstance(alert.get("status"), str) or alert["status"] not in {
            "firing",
            "resolved",
        }:
            errors.append(f"{where}.status: expected 'firing' or 'resolved'")
        string_map(alert.get("labels"), f"{where}.labels", errors)
        string_map(alert.get("annotations"), f"{where}.annotations", errors)
        parse_time(alert.get("startsAt"), f"{where}.startsAt", errors)
        parse_time(alert.get("endsAt"), f"{where}.endsAt", errors)
        for name in string_fields:
            if alert.get(name) is not None and not isinstance(alert.get(name), str):
                errors.append(f"{where}.{name}: expected a string")
        if check_alert:
            check_alert(alert, where, errors)
    return errors


def parse(payload: object, options: Mapping | None = None) -> list[AlertEvent]:
    errors = validate(payload, options)
    if errors:
        raise PayloadError(errors)
    assert isinstance(payload, dict)
    payload = without_nul(payload)
    group_labels = string_map(payload.get("groupLabels"), "groupLabels", errors)
    receiver = str(payload.get("receiver") or "")
    group_key = payload.get("groupKey") or stable_fingerprint(receiver, group_labels)
    truncated = payload.get("truncatedAlerts", 0)
    external_url = payload.get("externalURL")
    events = []
    for alert in payload["alerts"]:
        labels = string_map(alert.get("labels"), "labels", errors)
        annotations = string_map(alert.get("annotations"), "annotations", errors)
        alertname = labels.get("alertname", "")
        title = annotations.get("summary") or annotations.get("title") or alertname
        links = []
        if alert.get("generatorURL"):
            links.append(Link(alert["generatorURL"], "Source"))
        if isinstance(external_url, str) and external_url:
            links.append(Link(external_url, "Alertmanager"))
        events.append(
            AlertEvent(
                source=SOURCE,
                incident_key=bounded(group_key, MAX_TEXT),
                fingerprint=bounded(alert.get("fingerprint") or stable_fingerprint(labels), 200),
                status=AlertStatus(alert["status"]),
                title=(title or "Alert")[:MAX_TEXT],
                severity=severity_from(labels.get("severity")),
                labels=labels,
                annotations=annotations,
                starts_at=parse_time(alert.get("startsAt"), "startsAt", errors),
                ends_at=parse_time(alert.get("endsAt"), "endsAt", errors),
                links=tuple(links),
                heartbeat=alertname in HEARTBEAT_ALERTNAMES,
                group_truncated=truncated,
            )
        )
    return events
