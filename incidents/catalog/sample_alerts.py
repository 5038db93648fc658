"""Alert bodies Pagerline writes itself, in each sender's own shape: the test alert a
manager sends from an integration's page, and the example in the generic source's curl
line. Pure: plain values in, a JSON-ready dict out. The bodies go through the same
validation and parsing as a sender's (incidents.intake.sources), so a test alert proves
the whole intake path."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

# Marks a test alert in the labels (Alertmanager, Grafana) or details (PagerDuty, generic),
# so routing rules can match it and people can tell it from a real one.
TEST_LABEL = "pagerline_test"
TEST_ALERTNAME = "PagerlineTestAlert"
SEVERITY = "info"


def test_title(sender: str) -> str:
    return f"[TEST] Test alert from Pagerline, sent by {sender}"


def test_key(integration_id: int) -> str:
    """One key per integration: a second test alert joins the first one's open incident."""
    return f"pagerline-test-{integration_id}"


def alert_body(
    source: str,
    *,
    title: str,
    key: str,
    at: datetime,
    options: Mapping | None = None,
    test: bool = True,
) -> dict:
    """A firing alert of `source`'s shape, with this title and dedup key."""
    marks = {TEST_LABEL: "true"} if test else {}
    if source in ("alertmanager", "grafana"):
        return _group(source, title=title, key=key, at=at, marks=marks)
    if source == "pagerduty":
        return {
            "event_action": "trigger",
            "dedup_key": key,
            "payload": {
                "summary": title,
                "source": "pagerline",
                "severity": SEVERITY,
                "timestamp": at.isoformat(),
                "custom_details": marks,
            },
            "client": "Pagerline",
        }
    if source == "opsgenie":
        # The envelope the Opsgenie API view stores for `POST /v2/alerts` (its parser's input).
        alert = {"message": title, "alias": key, "priority": "P5", "source": "pagerline"}
        if marks:
            alert["details"] = marks
        return {"requestId": key, "action": "create", "alert": alert}
    if source == "generic":
        return _generic(title=title, key=key, at=at, options=options, marks=marks)
    raise ValueError(f"no sample alert for source {source!r}")


def _group(source: str, *, title: str, key: str, at: datetime, marks: dict) -> dict:
    labels = {"alertname": TEST_ALERTNAME, "severity": SEVERITY, **marks}
    body = {
        "version": "4" if source == "alertmanager" else "1",
        "receiver": "pagerline",
        "status": "firing",
        "groupKey": key,
        "groupLabels": {"alertname": TEST_ALERTNAME},
        "commonLabels": labels,
        "commonAnnotations": {"summary": title},
        "truncatedAlerts": 0,
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": title},
                "startsAt": at.isoformat(),
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": key,
            }
        ],
    }
    if source == "grafana":
        body["title"] = title
    return body


def _generic(*, title: str, key: str, at: datetime, options: Mapping | None, marks: dict) -> dict:
    """The default shape, or the integration's own when `options["mapping"]` moves fields
    to dotted paths (each value is put where the parser will read it)."""
    mapping = options.get("mapping") if isinstance(options, Mapping) else None
    paths = mapping if isinstance(mapping, dict) else {}
    values = {
        "title": title,
        "dedup_key": key,
        "severity": SEVERITY,
        "source": "pagerline",
        "started_at": at.isoformat(),
    }
    if marks:
        values["details"] = marks
    document: dict = {}
    for field, value in values.items():
        path = paths.get(field, field)
        _put(document, path if isinstance(path, str) and path else field, value)
    return document


def _put(document: dict, path: str, value: object) -> None:
    """Set `value` at a dotted path, making objects on the way; a numeric part makes a
    list long enough for that index (`items.0.id`)."""
    parts = path.split(".")
    current: object = document
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        following: object = value if last else ([] if parts[index + 1].isdigit() else {})
        if isinstance(current, list):
            position = int(part) if part.isdigit() else 0
            while len(current) <= position:
                current.append(None)
            if last or current[position] is None:
                current[position] = following
            current = current[position]
        elif isinstance(current, dict):
            if last or not isinstance(current.get(part), dict | list):
                current[part] = following
            current = current[part]
        else:  # a value already sits where a later path needs an object: leave it
            return
