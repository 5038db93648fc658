"""Services, integrations and routing rules through the API: roles, validation, audit."""

import pytest

from core.models import AuditEntry
from incidents.models import Integration, RoutingRule, hash_token
from incidents.tests.factories import make_service

pytestmark = pytest.mark.django_db

JSON = "application/json"


def test_managers_create_an_integration_and_see_its_token_once(client, users, service):
    client.force_login(users["manager"])
    response = client.post(
        "/api/v1/integrations/", {"service": "checkout", "source": "pagerduty"}, content_type=JSON
    )
    assert response.status_code == 201, response.content
    body = response.json()
    integration = Integration.objects.get(pk=body["id"])
    assert integration.token_hash == hash_token(body["token"])
    assert body["webhook_url"].endswith(f"/hooks/pagerduty/{body['token']}")
    listed = client.get("/api/v1/integrations/").json()["results"]
    assert "token" not in listed[0] and body["token"] not in str(listed)
    entry = AuditEntry.objects.get(action="integration.created")
    assert entry.actor == users["manager"] and entry.team_id == service.team_id
    assert body["token"] not in str(entry.changes) + entry.summary


def test_rotating_a_token_kills_the_old_url(client, users, integration):
    record, old_token = integration
    client.force_login(users["manager"])
    response = client.post(f"/api/v1/integrations/{record.pk}/rotate/")
    assert response.status_code == 200
    new_token = response.json()["token"]
    assert new_token != old_token
    hook = "/hooks/alertmanager/{}"
    body = '{"alerts": []}'
    assert client.post(hook.format(old_token), body, content_type=JSON).status_code == 404
    assert client.post(hook.format(new_token), body, content_type=JSON).status_code == 202
    assert AuditEntry.objects.filter(action="integration.token_rotated").count() == 1


@pytest.mark.parametrize("role", ["viewer", "responder"])
def test_viewers_and_responders_read_but_cannot_configure(client, users, integration, role):
    record, _ = integration
    client.force_login(users[role])
    assert client.get(f"/api/v1/integrations/{record.pk}/").status_code == 200
    assert client.post(f"/api/v1/integrations/{record.pk}/rotate/").status_code == 403
    assert (
        client.patch(
            f"/api/v1/integrations/{record.pk}/", {"enabled": False}, content_type=JSON
        ).status_code
        == 403
    )


def test_outsiders_get_404(client, users, integration):
    record, _ = integration
    client.force_login(users["outsider"])
    assert client.get(f"/api/v1/integrations/{record.pk}/").status_code == 404
    assert client.post(f"/api/v1/integrations/{record.pk}/rotate/").status_code == 404
    assert client.get("/api/v1/services/checkout/").status_code == 404
    assert client.get("/api/v1/integrations/").json()["results"] == []


def test_updates_are_validated_and_audited_with_their_changes(client, users, integration):
    record, _ = integration
    client.force_login(users["manager"])
    url = f"/api/v1/integrations/{record.pk}/"
    bad = client.patch(url, {"heartbeat_interval_seconds": 5}, content_type=JSON)
    assert bad.status_code == 400
    assert "heartbeat_interval_seconds" in bad.json()
    ok = client.patch(
        url, {"heartbeat_interval_seconds": 300, "reopen_window_seconds": 120}, content_type=JSON
    )
    assert ok.status_code == 200
    entry = AuditEntry.objects.get(action="integration.updated")
    assert entry.changes == {
        "heartbeat_interval_seconds": [None, 300],
        "reopen_window_seconds": [0, 120],
    }


def test_routing_rules_are_validated(client, users, integration, team):
    record, _ = integration
    make_service(team, "payments-api", "Payments API")
    client.force_login(users["manager"])
    url = f"/api/v1/integrations/{record.pk}/routing-rules/"
    bad = client.post(
        url,
        {"service": "payments-api", "matchers": [{"label": "service", "op": "~", "value": "x"}]},
        content_type=JSON,
    )
    assert bad.status_code == 400
    assert "matchers[0].op" in str(bad.json()["matchers"])
    good = client.post(
        url,
        {"service": "payments-api", "matchers": [{"label": "service", "value": "payments"}]},
        content_type=JSON,
    )
    assert good.status_code == 201
    assert RoutingRule.objects.get().service.slug == "payments-api"
    listed = client.get(url).json()["results"]
    assert listed[0]["matchers"] == [{"label": "service", "value": "payments"}]
    rule_id = good.json()["id"]
    assert client.delete(f"{url}{rule_id}/").status_code == 204
    assert set(AuditEntry.objects.values_list("action", flat=True)) == {
        "routing_rule.created",
        "routing_rule.deleted",
    }


@pytest.mark.parametrize(
    ("matcher", "field"),
    [
        ({"label": "", "op": {}, "value": ""}, "matchers[0].op"),  # found by schemathesis: a 500
        ({"label": "a", "op": ["=~"], "value": "x"}, "matchers[0].op"),
        ({"label": {}, "value": "x"}, "matchers[0].label"),
        ({"label": "a", "value": []}, "matchers[0].value"),
        ({"label": "a", "op": "=~", "value": "a{99999999999}"}, "matchers[0].value"),
        ({"label": "a", "op": "=~", "value": "(" * 2000 + ")" * 2000}, "matchers[0].value"),
    ],
)
def test_a_routing_rule_of_the_wrong_types_is_a_400_naming_the_field(
    client, users, integration, matcher, field
):
    record, _ = integration
    client.force_login(users["manager"])
    response = client.post(
        f"/api/v1/integrations/{record.pk}/routing-rules/",
        {"service": record.service.slug, "matchers": [matcher]},
        content_type=JSON,
    )
    assert response.status_code == 400
    assert field in str(response.json()["matchers"])
    assert not RoutingRule.objects.exists()


def test_a_routing_rule_cannot_target_another_teams_service(client, users, integration):
    from oncall.models import Team

    record, _ = integration
    other = make_service(Team.objects.get(slug="other"), "x", "X")
    client.force_login(users["manager"])
    response = client.post(
        f"/api/v1/integrations/{record.pk}/routing-rules/",
        {"service": other.slug, "matchers": [{"label": "a", "value": "b"}]},
        content_type=JSON,
    )
    assert response.status_code == 400
    assert "service" in response.json()


def test_managers_create_services(client, users, team):
    client.force_login(users["manager"])
    response = client.post(
        "/api/v1/services/",
        {"team": "payments", "slug": "search", "name": "Search"},
        content_type=JSON,
    )
    assert response.status_code == 201
    again = client.post(
        "/api/v1/services/",
        {"team": "payments", "slug": "search", "name": "Search"},
        content_type=JSON,
    )
    assert again.status_code == 400
    client.force_login(users["outsider"])
    foreign = client.post(
        "/api/v1/services/", {"team": "payments", "slug": "s2", "name": "S2"}, content_type=JSON
    )
    assert foreign.status_code == 400
    assert foreign.json() == {"team": ["no such team"]}


def test_the_audit_log_is_for_managers_of_the_team(client, users, integration):
    record, _ = integration
    client.force_login(users["manager"])
    client.post(f"/api/v1/integrations/{record.pk}/rotate/")
    page = client.get("/audit/").content.decode()
    assert "integration.token_rotated" in page
    assert client.get("/api/v1/audit/").json()["results"][0]["actor"] == "manager"
    for role in ("viewer", "responder", "outsider"):
        client.force_login(users[role])
        assert "integration.token_rotated" not in client.get("/audit/").content.decode()
        assert client.get("/api/v1/audit/").json()["results"] == []


def test_managers_choose_a_slack_channel_for_new_incidents(client, users, service):
    client.force_login(users["manager"])
    url = f"/api/v1/services/{service.slug}/"
    response = client.patch(url, {"slack_channel": "C0OPS12345"}, content_type=JSON)
    assert response.status_code == 200
    assert response.json()["slack_channel"] == "C0OPS12345"
    for name in ("#ops", "ops", "U0123ABCD"):
        refused = client.patch(url, {"slack_channel": name}, content_type=JSON)
        assert refused.status_code == 400
        assert "channel's ID" in refused.json()["slack_channel"][0]
    assert client.patch(url, {"slack_channel": ""}, content_type=JSON).json()["slack_channel"] == ""
    client.force_login(users["responder"])
    assert client.patch(url, {"slack_channel": "C0OPS12345"}, content_type=JSON).status_code == 403
