"""Absurdly large numbers in API bodies are refused with a 400 naming the field. Several used
to reach database lookups and columns and overflow them (a 500), as the API fuzzing found."""

from __future__ import annotations

import json

import pytest

from tests.access_world import build_world

HUGE = 2**70


@pytest.fixture
def world(db):
    return build_world()


def _send(client, world, method: str, path: str, body: dict):
    client.force_login(world.users["manager"])
    return client.generic(method, path, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/v1/drills/{drill}/attach/", {"incident": HUGE}, "incident"),
        ("POST", "/api/v1/drills/{drill}/detach/", {"incident": HUGE}, "incident"),
        ("POST", "/api/v1/incidents/{incident}/assign/", {"assignee": HUGE}, "assignee"),
        ("PATCH", "/api/v1/services/{service}/", {"escalation_policy": HUGE}, "escalation_policy"),
        (
            "PATCH",
            "/api/v1/integrations/{integration}/",
            {"heartbeat_interval_seconds": HUGE},
            "heartbeat_interval_seconds",
        ),
        (
            "POST",
            "/api/v1/maintenance-windows/",
            {
                "team": HUGE,
                "services": [HUGE],
                "starts_at": "2999-01-01T00:00:00Z",
                "ends_at": "2999-01-01T01:00:00Z",
                "reason": "patching",
            },
            "team",
        ),
        (
            "POST",
            "/api/v1/drills/",
            {
                "team": "alpha7",
                "name": "Failover",
                "services": [{"service": "alpha7-checkout", "max_mttd_seconds": HUGE}],
            },
            "services",
        ),
    ],
)
def test_it_refuses_numbers_no_row_or_column_can_hold(client, world, method, path, body, field):
    path = path.format(
        drill=world.drill.pk,
        incident=world.incident.pk,
        service=world.service.slug,
        integration=world.integration.pk,
    )
    response = _send(client, world, method, path, body)
    assert response.status_code == 400, response.content
    assert field in response.json()
