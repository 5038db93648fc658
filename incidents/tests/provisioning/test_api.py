"""POST /api/v1/provisioning/plan and /apply: only the teams the caller manages, audited."""

from __future__ import annotations

import json

import pytest
import yaml

from core.models import AuditEntry
from incidents.models import Service
from incidents.provisioning import export
from incidents.tests.factories import make_service
from oncall.models import Invitation, Team

pytestmark = pytest.mark.django_db


def _document(team) -> dict:
    return export.export(teams=[team])


def _post(client, what: str, body, *, query: str = "", as_yaml: bool = False):
    if as_yaml:
        return client.post(
            f"/api/v1/provisioning/{what}{query}",
            yaml.safe_dump(body),
            content_type="application/yaml",
        )
    return client.post(
        f"/api/v1/provisioning/{what}{query}", json.dumps(body), content_type="application/json"
    )


def test_a_manager_plans_then_applies_a_change_to_their_team_in_yaml(team, users, client):
    client.force_login(users["manager"])
    make_service(team, "checkout", "Checkout")
    body = _document(team)
    body["teams"][0]["services"][0]["name"] = "Checkout API"
    planned = _post(client, "plan", body, as_yaml=True)
    assert planned.status_code == 200, planned.content
    assert planned.json()["applied"] is False
    assert planned.json()["changes"] == [
        {
            "action": "update",
            "object": "service payments/checkout",
            "fields": {"name": ["Checkout", "Checkout API"]},
            "note": "",
        }
    ]
    assert Service.objects.get().name == "Checkout"
    applied = _post(client, "apply", body)
    assert applied.status_code == 200 and applied.json()["applied"] is True
    assert Service.objects.get().name == "Checkout API"
    entry = AuditEntry.objects.get(action="provisioning.applied")
    assert entry.team_id == team.pk and entry.actor == users["manager"]
    assert entry.changes == {
        "plan": ["~ update service payments/checkout", '    name: "Checkout" -> "Checkout API"']
    }
    assert AuditEntry.objects.filter(action="service.updated", actor=users["manager"]).exists()
    again = _post(client, "plan", body).json()
    assert again["changes"] == [] and again["lines"] == ["No changes."]


def test_a_document_naming_a_team_the_caller_does_not_manage_is_refused(team, users, client):
    client.force_login(users["manager"])
    body = _document(team)
    other = _document(Team.objects.get(slug="other"))
    body["teams"] += other["teams"]
    answer = _post(client, "apply", body)
    assert answer.status_code == 403
    assert "'other'" in answer.json()["detail"]
    # A team that does not exist: the same answer (only staff create teams this way).
    body["teams"][1]["slug"] = "brand-new"
    answer = _post(client, "plan", body)
    assert answer.status_code == 403 and "'brand-new'" in answer.json()["detail"]
    assert not Team.objects.filter(slug="brand-new").exists()


def test_a_responder_is_refused_their_own_team(team, users, client):
    client.force_login(users["responder"])
    answer = _post(client, "plan", _document(team))
    assert answer.status_code == 403 and "'payments'" in answer.json()["detail"]


def test_an_invalid_document_is_a_400_naming_object_and_field(team, users, client):
    client.force_login(users["manager"])
    body = _document(team)
    body["teams"][0]["time_zone"] = "Nowhere/Land"
    answer = _post(client, "apply", body)
    assert answer.status_code == 400
    assert answer.json() == {
        "document": ["team payments: time_zone: Unknown IANA time zone 'Nowhere/Land' "
                     "(e.g. 'Europe/Berlin')."]
    }  # fmt: skip
    assert Team.objects.get(slug="payments").time_zone == "Europe/Berlin"
    broken = _post(client, "plan", "teams: [", as_yaml=False)
    assert broken.status_code == 400


def test_yaml_aliases_are_refused(team, users, client):
    client.force_login(users["manager"])
    text = "version: 1\nteams: &t []\nmore: *t\n"
    answer = client.post("/api/v1/provisioning/plan", text, content_type="application/yaml")
    assert answer.status_code == 400
    assert "aliases" in answer.json()["document"][0]


def test_prune_is_asked_for_in_the_query(team, users, client):
    client.force_login(users["manager"])
    make_service(team, "legacy", "Legacy")
    body = _document(team)
    body["teams"][0]["services"] = []
    assert _post(client, "plan", body).json()["changes"] == []
    pruned = _post(client, "apply", body, query="?prune=true").json()
    assert [c["object"] for c in pruned["changes"]] == ["service payments/legacy"]
    assert not Service.objects.filter(slug="legacy").exists()


def test_the_endpoints_are_in_the_openapi_schema(users, client):
    client.force_login(users["manager"])
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    text = schema.content.decode()
    assert "/api/v1/provisioning/plan" in text and "/api/v1/provisioning/apply" in text


def test_a_body_that_is_not_an_object_is_a_400(team, users, client):
    client.force_login(users["manager"])
    answer = _post(client, "plan", [1, 2])
    assert answer.status_code == 400
    assert answer.json() == {"document": ["document: expected an object"]}


def test_a_yaml_body_over_the_upload_limit_is_a_400(team, users, client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(users["manager"])
    text = "version: 1\nteams: []\n# " + "x" * 2000 + "\n"
    answer = client.post("/api/v1/provisioning/plan", text, content_type="application/yaml")
    assert answer.status_code == 400
    assert "larger than 1000 bytes" in answer.json()["detail"]


def test_a_manager_invites_a_new_member_through_the_api(team, users, client, smtp):
    client.force_login(users["manager"])
    body = _document(team)
    body["teams"][0]["members"].append({"email": "dee@example.com", "role": "responder"})
    refused = _post(client, "apply", body)
    assert refused.status_code == 400
    assert refused.json() == {
        "document": ["team 'payments': members: no user has the email dee@example.com "
                     "(to invite them: --invite, or ?invite=true in the API)"]
    }  # fmt: skip
    answer = _post(client, "apply", body, query="?invite=true")
    assert answer.status_code == 200 and answer.json()["invited"] == ["dee@example.com"]
    assert smtp.recipients == ["dee@example.com"]
    assert Invitation.objects.get().invited_by == users["manager"]
