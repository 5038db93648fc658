"""Absurd numbers and instants, and NUL characters, in API requests and forms are refused with
a 400 naming the field. Several used to reach database lookups and columns, or date arithmetic,
and overflow them or be refused there (a 500): the API fuzzing found the first, probing the
same edges found the rest."""

from __future__ import annotations

import json

import pytest

from tests.access_world import build_world

HUGE = 2**70
# In UTC these fall before year 1 and after year 9999: datetime arithmetic overflows.
EARLY = "0001-01-01T00:00:00+01:00"
LATE = "9999-12-31T23:59:59-01:00"
# A valid new policy of team alpha7, to spoil one field at a time.
NUL_POLICY = {"team": "alpha7", "name": "Primary", "steps": [{"targets": [{"user": "responder"}]}]}


@pytest.fixture
def fresh_world(db):
    """A world of its own for each test (not the module-wide `world` of tests/conftest.py)."""
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
        ("POST", "/api/v1/drills/{drill}/finish/", {"at": EARLY}, "at"),
        (
            "POST",
            "/api/v1/drills/{drill}/restore/",
            {"service": "alpha7-checkout", "at": LATE},
            "at",
        ),
        ("POST", "/api/v1/schedules/{schedule}/overrides/", {"start": EARLY, "end": LATE}, "start"),
        ("GET", "/api/v1/schedules/{schedule}/oncall?at=" + EARLY.replace("+", "%2B"), {}, "at"),
        ("GET", "/api/v1/schedules/{schedule}/shifts?start=" + LATE, {}, "start"),
        ("GET", "/api/v1/metrics/services/?team=alpha7&start_week=0001-W01", {}, "start_week"),
        ("GET", "/api/v1/metrics/services/?team=alpha7&end_week=9999-W52", {}, "end_week"),
        # PostgreSQL text holds no NUL character: a lookup or a stored JSON string with one
        # fails in the database (the API fuzzing found the first).
        (
            "POST",
            "/api/v1/integrations/{integration}/routing-rules/",
            {"service": "alpha7\x00", "matchers": [{"label": "env", "value": "prod"}]},
            "service",
        ),
        (
            "POST",
            "/api/v1/integrations/{integration}/routing-rules/",
            {"service": "alpha7-checkout", "matchers": [{"label": "env", "value": "\x00"}]},
            "matchers",
        ),
        ("POST", "/api/v1/services/", {"slug": "nul", "name": "Nul", "team": "a\x00"}, "team"),
        # jsonb refuses "\u0000" anywhere in a document: in a value or in a key, at any depth.
        ("PATCH", "/api/v1/integrations/{integration}/", {"options": {"a": "\x00"}}, "options"),
        (
            "PATCH",
            "/api/v1/integrations/{integration}/",
            {"options": {"mapping": {"title\x00": ["x"]}}},
            "options",
        ),
        ("GET", "/api/v1/integrations/?service=a%00", {}, "service"),
        (
            "POST",
            "/api/v1/heartbeats/",
            {"integration": HUGE, "name": "cron", "interval_seconds": 600},
            "integration",
        ),
        (
            "POST",
            "/api/v1/heartbeats/",
            {"integration": 1, "name": "cron", "interval_seconds": HUGE},
            "interval_seconds",
        ),
        (
            "POST",
            "/api/v1/heartbeats/",
            {"integration": 1, "name": "cron\x00", "interval_seconds": 600},
            "name",
        ),
        (
            "PATCH",
            "/api/v1/heartbeats/{heartbeat}/",
            {"interval_seconds": HUGE},
            "interval_seconds",
        ),
        ("PATCH", "/api/v1/heartbeats/{heartbeat}/", {"description": "\x00"}, "description"),
        ("GET", f"/api/v1/heartbeats/?integration={HUGE}", {}, "integration"),
        # Escalation policies are read from the JSON body as it came, not by serializer fields.
        ("POST", "/api/v1/escalation-policies/", {**NUL_POLICY, "team": "alpha7\x00"}, "team"),
        ("POST", "/api/v1/escalation-policies/", {**NUL_POLICY, "name": "Primary\x00"}, "name"),
        (
            "POST",
            "/api/v1/escalation-policies/",
            {**NUL_POLICY, "fallback_user": "manager\x00"},
            "fallback_user",
        ),
        (
            "POST",
            "/api/v1/escalation-policies/",
            {**NUL_POLICY, "steps": [{"targets": [{"user": "responder\x00"}]}]},
            "steps[0].targets[0].user",
        ),
        ("PATCH", "/api/v1/escalation-policies/{policy}/", {"name": "Primary\x00"}, "name"),
        ("GET", "/api/v1/escalation-policies/?team=a%00", {}, "team"),
        ("GET", "/api/v1/drills/?team=a%00", {}, "team"),
        # "²" passes str.isdigit() but int() refuses it; nor does a version column hold 2**70.
        ("GET", "/api/v1/reports/alpha7/2026-W10/?version=%C2%B2", {}, "version"),
        ("GET", f"/api/v1/reports/alpha7/2026-W10/?version={HUGE}", {}, "version"),
        ("GET", f"/api/v1/reports/alpha7/2026-W10/?version={'9' * 5000}", {}, "version"),
    ],
)
def test_it_refuses_values_no_column_or_datetime_can_hold(
    client, fresh_world, method, path, body, field
):
    path = path.format(
        drill=fresh_world.drill.pk,
        incident=fresh_world.incident.pk,
        service=fresh_world.service.slug,
        integration=fresh_world.integration.pk,
        heartbeat=fresh_world.heartbeat.pk,
        schedule=fresh_world.schedule.pk,
        policy=fresh_world.policy.pk,
    )
    response = _send(client, fresh_world, method, path, body)
    assert response.status_code == 400, response.content
    assert field in response.json()


# The drill URLs match \d+, which takes "١٢" (Arabic-Indic digits) and ids no bigint holds.
@pytest.mark.parametrize("drill_id", ["%D9%A1", str(HUGE), "9" * 5000])
def test_a_drill_id_that_is_no_bigint_names_no_drill(client, fresh_world, drill_id):
    response = _send(client, fresh_world, "GET", f"/api/v1/drills/{drill_id}/", {})
    assert response.status_code == 404


@pytest.mark.parametrize("when", ["0001-01-01T00:00", "1969-12-31T23:59", "9999-12-31T23:59"])
@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/schedules/{schedule}/overrides/add", {"user": "responder", "end": "2026-12-01T00:00"}),
        ("/maintenance/", {"ends_at": "2999-12-31T23:59", "reason": "patching"}),
    ],
)
def test_the_forms_refuse_times_outside_1970_to_2999(client, fresh_world, path, form, when):
    client.force_login(fresh_world.users["manager"])
    start = "start" if "overrides" in path else "starts_at"
    form = {**form, start: when, "team": fresh_world.team.pk, "services": [fresh_world.service.pk]}
    response = client.post(path.format(schedule=fresh_world.schedule.pk), form)
    assert response.status_code == 400
    assert "between 1970 and 2999" in response.content.decode()
