"""Named heartbeats through the API (/api/v1/heartbeats/): roles, validation, audit, and
that what the API changes is what the heartbeat check and the Opsgenie ping then use."""

from datetime import timedelta

import pytest

from core.models import AuditEntry
from incidents.intake.heartbeats import heartbeats_check
from incidents.models import Incident, IncidentStatus, NamedHeartbeat
from incidents.tests.factories import make_integration, make_named_heartbeat

pytestmark = pytest.mark.django_db

JSON = "application/json"
URL = "/api/v1/heartbeats/"


@pytest.fixture
def opsgenie(service):
    return make_integration(service, source="opsgenie", name="Senders")


@pytest.fixture
def heartbeat(opsgenie):
    record, _ = opsgenie
    return make_named_heartbeat(record, "nightly-backup", interval_seconds=600)


def _ping(client, token: str, name: str):
    key = {"Authorization": f"GenieKey {token}"}
    response = client.get(f"/v2/heartbeats/{name}/ping", headers=key)
    assert response.status_code == 202
    return response


def test_managers_create_read_change_and_remove_a_heartbeat(client, users, opsgenie):
    record, token = opsgenie
    client.force_login(users["manager"])
    body = {"integration": record.pk, "name": "nightly-backup", "interval_seconds": 3600}
    created = client.post(URL, body, content_type=JSON)
    assert created.status_code == 201, created.content
    heartbeat = created.json()
    assert heartbeat["integration"] == record.pk
    assert (heartbeat["name"], heartbeat["interval_seconds"]) == ("nightly-backup", 3600)
    assert (heartbeat["enabled"], heartbeat["description"], heartbeat["last_ping_at"]) == (
        True,
        "",
        None,
    )
    url = f"{URL}{heartbeat['id']}/"
    assert client.get(url).json() == heartbeat
    assert client.get(URL).json()["results"] == [heartbeat]

    _ping(client, token, "nightly-backup")
    pinged = client.get(url).json()["last_ping_at"]
    assert pinged is not None
    changed = client.patch(
        url, {"interval_seconds": 900, "description": "the database dump"}, content_type=JSON
    )
    assert changed.status_code == 200, changed.content
    assert changed.json() == {
        **heartbeat,
        "interval_seconds": 900,
        "description": "the database dump",
        "last_ping_at": pinged,
    }

    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert not NamedHeartbeat.objects.exists()
    entries = AuditEntry.objects.filter(action__startswith="integration.heartbeat_")
    assert [(e.action, e.actor, e.team_id, e.object_id) for e in entries.order_by("pk")] == [
        (f"integration.heartbeat_{verb}", users["manager"], record.service.team_id, str(record.pk))
        for verb in ("created", "updated", "deleted")
    ]
    updated = entries.get(action="integration.heartbeat_updated")
    assert updated.changes == {
        "heartbeat": "nightly-backup",
        "interval_seconds": [3600, 900],
        "description": ["", "the database dump"],
    }


def test_a_change_is_what_the_heartbeat_check_then_uses(client, users, opsgenie, heartbeat):
    _, token = opsgenie
    client.force_login(users["manager"])
    url = f"{URL}{heartbeat.pk}/"
    _ping(client, token, heartbeat.name)
    heartbeat.refresh_from_db()
    pinged = heartbeat.last_ping_at

    assert client.patch(url, {"enabled": False}, content_type=JSON).status_code == 200
    assert heartbeats_check(now=pinged + timedelta(hours=1)) == 0  # not watched

    assert client.patch(url, {"enabled": True, "interval_seconds": 7200}, content_type=JSON).json()[
        "last_ping_at"
    ]
    assert heartbeats_check(now=pinged + timedelta(hours=1)) == 0  # not due yet
    assert heartbeats_check(now=pinged + timedelta(hours=2, minutes=1)) == 1
    incident = Incident.objects.get()
    assert incident.title.startswith("No heartbeat from nightly-backup")
    assert incident.status == IncidentStatus.TRIGGERED


def test_a_change_that_changes_nothing_is_not_audited(client, users, heartbeat):
    client.force_login(users["manager"])
    response = client.patch(
        f"{URL}{heartbeat.pk}/", {"interval_seconds": 600, "enabled": True}, content_type=JSON
    )
    assert response.status_code == 200
    assert not AuditEntry.objects.filter(action="integration.heartbeat_updated").exists()


@pytest.mark.parametrize("role", ["viewer", "responder"])
def test_viewers_and_responders_read_but_cannot_change(client, users, opsgenie, heartbeat, role):
    record, _ = opsgenie
    client.force_login(users[role])
    url = f"{URL}{heartbeat.pk}/"
    assert client.get(url).json()["name"] == "nightly-backup"
    assert client.get(URL, {"integration": record.pk}).json()["count"] == 1
    body = {"integration": record.pk, "name": "cron", "interval_seconds": 600}
    assert client.post(URL, body, content_type=JSON).status_code == 403
    assert client.patch(url, {"enabled": False}, content_type=JSON).status_code == 403
    assert client.delete(url).status_code == 403
    heartbeat.refresh_from_db()
    assert heartbeat.enabled and NamedHeartbeat.objects.count() == 1


def test_outsiders_get_404_and_an_empty_list(client, users, opsgenie, heartbeat):
    record, _ = opsgenie
    client.force_login(users["outsider"])
    url = f"{URL}{heartbeat.pk}/"
    assert client.get(url).status_code == 404
    assert client.patch(url, {"enabled": False}, content_type=JSON).status_code == 404
    assert client.delete(url).status_code == 404
    assert client.get(URL).json()["results"] == []
    body = {"integration": record.pk, "name": "cron", "interval_seconds": 600}
    refused = client.post(URL, body, content_type=JSON)
    assert refused.status_code == 400
    assert refused.json() == {"integration": ["no such integration"]}
    assert NamedHeartbeat.objects.count() == 1


def test_the_list_is_filtered_by_integration(client, users, service, opsgenie, heartbeat):
    other, _ = make_integration(service, source="opsgenie", name="Batch")
    make_named_heartbeat(other, "batch", interval_seconds=600)
    client.force_login(users["viewer"])
    names = [h["name"] for h in client.get(URL, {"integration": other.pk}).json()["results"]]
    assert names == ["batch"]
    assert client.get(URL).json()["count"] == 2
    assert "integration" in client.get(URL, {"integration": "x"}).json()


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"name": "nightly-backup", "interval_seconds": 600},
            {"name": ["a heartbeat named 'nightly-backup' already exists"]},
        ),
        ({"name": "cron", "interval_seconds": 59}, {"interval_seconds": None}),
        ({"name": "  ", "interval_seconds": 600}, {"name": None}),
        ({"name": "x" * 201, "interval_seconds": 600}, {"name": None}),
        ({"name": "cron", "interval_seconds": 600, "enabled": "maybe"}, {"enabled": None}),
        ({"name": "cron"}, {"interval_seconds": None}),
        ({"integration": 999_999, "name": "cron", "interval_seconds": 600}, None),
    ],
)
def test_a_refused_heartbeat_is_a_400_naming_the_field(
    client, users, opsgenie, heartbeat, body, errors
):
    record, _ = opsgenie
    client.force_login(users["manager"])
    response = client.post(URL, {"integration": record.pk, **body}, content_type=JSON)
    assert response.status_code == 400, response.content
    answer = response.json()
    expected = errors or {"integration": ["no such integration"]}
    assert set(answer) == set(expected)
    for field, messages in expected.items():
        assert messages is None or answer[field] == messages
    assert NamedHeartbeat.objects.count() == 1


def test_only_an_opsgenie_integration_has_named_heartbeats(client, users, integration):
    record, _ = integration
    client.force_login(users["manager"])
    body = {"integration": record.pk, "name": "cron", "interval_seconds": 600}
    response = client.post(URL, body, content_type=JSON)
    assert response.status_code == 400
    assert "only an Opsgenie integration" in response.json()["integration"][0]
    assert not NamedHeartbeat.objects.exists()


def test_a_heartbeat_keeps_its_name(client, users, heartbeat):
    client.force_login(users["manager"])
    url = f"{URL}{heartbeat.pk}/"
    renamed = client.patch(url, {"name": "other", "enabled": False}, content_type=JSON)
    assert renamed.status_code == 400
    assert "senders ping the heartbeat by its name" in renamed.json()["name"][0]
    heartbeat.refresh_from_db()
    assert (heartbeat.name, heartbeat.enabled) == ("nightly-backup", True)
    same = client.patch(url, {"name": "nightly-backup", "enabled": False}, content_type=JSON)
    assert same.status_code == 200
    bad = client.patch(url, {"interval_seconds": 30}, content_type=JSON)
    assert bad.status_code == 400 and "interval_seconds" in bad.json()


def test_the_list_reads_in_a_fixed_number_of_queries(
    client, users, opsgenie, django_assert_max_num_queries
):
    record, _ = opsgenie
    for index in range(5):
        make_named_heartbeat(record, f"cron-{index}")
    client.force_login(users["viewer"])
    with django_assert_max_num_queries(8):
        assert client.get(URL).json()["count"] == 5
