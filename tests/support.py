"""Helpers shared by tests: payload builders and polling for asynchronous work."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "incidents" / "tests" / "fixtures"


def fixture_json(relative: str) -> dict:
    return json.loads((FIXTURES / relative).read_text())


def am_alert(
    name: str = "HighErrorRate",
    *,
    status: str = "firing",
    fingerprint: str | None = None,
    starts_at: str = "2026-11-26T10:00:00Z",
    ends_at: str = "0001-01-01T00:00:00Z",
    severity: str = "critical",
    **labels: str,
) -> dict:
    return {
        "status": status,
        "labels": {"alertname": name, "severity": severity, **labels},
        "annotations": {"summary": f"{name} on checkout"},
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        "fingerprint": fingerprint or f"fp-{name}".lower(),
    }


def am_payload(*alerts: dict, group_key: str = '{}:{alertname="HighErrorRate"}', truncated=0):
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": truncated,
        "status": status,
        "receiver": "pagerline",
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def wait_for(predicate, *, timeout: float = 10.0, interval: float = 0.05, message: str = ""):
    """Poll `predicate` until it returns a truthy value; fail the test after `timeout`.

    Only for work that really happens in another process (a Celery worker, a server).
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(message or f"condition not met within {timeout}s")
        time.sleep(interval)
