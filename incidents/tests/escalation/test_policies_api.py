"""Escalation policies through the API: roles, validation naming the field, audit, services
using a policy, and incidents keeping the policy they triggered with."""

from datetime import UTC, datetime, timedelta

import pytest

from core.models import AuditEntry
from incidents.models import EscalationPolicy, IncidentEscalation, Notification
from incidents.tests.factories import make_alert_incident, make_contact_method, make_policy
from incidents.tests.support import fire
from oncall.models import Role, Team
from oncall.tests.factories import make_membership, make_schedule

pytestmark = pytest.mark.django_db

JSON = "application/json"
URL = "/api/v1/escalation-policies/"
T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def body(**changes):
    data = {
        "team": "payments",
        "name": "Primary",
        "repeat": 1,
        "fallback_user": "manager",
        "steps": [
            {"delay_seconds": 0, "targets": [{"user": "responder"}]},
            {"delay_seconds": 300, "targets": [{"user": "manager"}, {"user": "responder"}]},
        ],
    }
    data.update(changes)
    return data


def post(client, data):
    return client.post(URL, data, content_type=JSON)


def test_it_creates_a_policy_for_a_manager_and_audits_it(manager_client, users, team):
    response = post(manager_client, body())
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["team"] == "payments" and created["name"] == "Primary"
    assert created["repeat"] == 1 and created["fallback_user"] == "manager"
    assert created["steps"] == body()["steps"]
    assert created["services"] == []
    policy = EscalationPolicy.objects.get(pk=created["id"])
    steps = list(policy.steps.order_by("position"))
    assert [s.delay_seconds for s in steps] == [0, 300]
    assert [t.user.username for t in steps[1].targets.order_by("id")] == ["manager", "responder"]
    entry = AuditEntry.objects.get(action="escalation_policy.created")
    assert entry.actor == users["manager"] and entry.team_id == team.pk
    assert entry.changes["steps"][1]["targets"] == ["user:manager", "user:responder"]


def test_it_pages_schedules_of_the_team(manager_client, team):
    schedule = make_schedule(team, name="Primary rota")
    steps = [{"delay_seconds": 60, "targets": [{"schedule": schedule.pk}]}]
    response = post(manager_client, body(steps=steps, fallback_user=None))
    assert response.status_code == 201, response.content
    target = response.json()["steps"][0]["targets"][0]
    assert target == {"schedule": schedule.pk, "schedule_name": "Primary rota"}
    assert response.json()["fallback_user"] is None


@pytest.mark.parametrize("role", ["viewer", "responder"])
def test_viewers_and_responders_read_but_cannot_change(client, users, team, role):
    policy = make_policy(team, (0, [users["responder"]]))
    client.force_login(users[role])
    assert client.get(f"{URL}{policy.pk}/").status_code == 200
    assert [p["id"] for p in client.get(URL).json()["results"]] == [policy.pk]
    assert post(client, body()).status_code == 403
    detail = f"{URL}{policy.pk}/"
    assert client.put(detail, body(), content_type=JSON).status_code == 403
    assert client.patch(detail, {"name": "X"}, content_type=JSON).status_code == 403
    assert client.delete(detail).status_code == 403
    assert EscalationPolicy.objects.get().name == "Primary"
    assert not AuditEntry.objects.filter(action__startswith="escalation_policy").exists()


def test_outsiders_never_see_another_teams_policies(client, users, team):
    policy = make_policy(team, (0, [users["responder"]]))
    client.force_login(users["outsider"])
    assert client.get(URL).json()["results"] == []
    detail = f"{URL}{policy.pk}/"
    assert client.get(detail).status_code == 404
    assert client.put(detail, body(), content_type=JSON).status_code == 404
    assert client.patch(detail, {"name": "X"}, content_type=JSON).status_code == 404
    assert client.delete(detail).status_code == 404
    refused = post(client, body())
    assert refused.status_code == 400 and "team" in refused.json()
    assert EscalationPolicy.objects.count() == 1


def test_anonymous_requests_are_refused(client, users, team):
    policy = make_policy(team, (0, [users["responder"]]))
    assert client.get(URL).status_code in {401, 403}
    assert client.get(f"{URL}{policy.pk}/").status_code in {401, 403}
    assert post(client, body()).status_code in {401, 403}
    assert client.delete(f"{URL}{policy.pk}/").status_code in {401, 403}
    assert EscalationPolicy.objects.count() == 1


def _other_schedule():
    return make_schedule(Team.objects.get(slug="other"), name="Theirs").pk


INVALID = [
    ("no name", lambda: {"name": None}, "name"),
    ("blank name", lambda: {"name": "   "}, "name"),
    ("long name", lambda: {"name": "x" * 201}, "name"),
    ("negative repeat", lambda: {"repeat": -1}, "repeat"),
    ("repeat as text", lambda: {"repeat": "2"}, "repeat"),
    ("repeat as boolean", lambda: {"repeat": True}, "repeat"),
    ("repeat too large", lambda: {"repeat": 101}, "repeat"),
    ("no steps", lambda: {"steps": []}, "steps"),
    ("steps not a list", lambda: {"steps": "page everyone"}, "steps"),
    ("step not an object", lambda: {"steps": [5]}, "steps[0]"),
    (
        "negative delay",
        lambda: {"steps": [{"delay_seconds": -5, "targets": [{"user": "responder"}]}]},
        "steps[0].delay_seconds",
    ),
    (
        "delay over a week",
        lambda: {"steps": [{"delay_seconds": 604801, "targets": [{"user": "responder"}]}]},
        "steps[0].delay_seconds",
    ),
    (
        "step without targets",
        lambda: {"steps": [body()["steps"][0], {"delay_seconds": 60, "targets": []}]},
        "steps[1].targets",
    ),
    (
        "user of another team",
        lambda: {"steps": [body()["steps"][0], {"targets": [{"user": "outsider"}]}]},
        "steps[1].targets[0].user",
    ),
    (
        "unknown user",
        lambda: {"steps": [{"targets": [{"user": "ghost"}]}]},
        "steps[0].targets[0].user",
    ),
    (
        "a viewer, who could not acknowledge",
        lambda: {"steps": [{"targets": [{"user": "viewer"}]}]},
        "steps[0].targets[0].user",
    ),
    (
        "schedule of another team",
        lambda: {"steps": [{"targets": [{"schedule": _other_schedule()}]}]},
        "steps[0].targets[0].schedule",
    ),
    (
        "unknown schedule",
        lambda: {"steps": [{"targets": [{"schedule": 99999}]}]},
        "steps[0].targets[0].schedule",
    ),
    (
        "schedule id beyond any row",
        lambda: {"steps": [{"targets": [{"schedule": 10**30}]}]},
        "steps[0].targets[0].schedule",
    ),
    (
        "user and schedule at once",
        lambda: {"steps": [{"targets": [{"user": "responder", "schedule": 1}]}]},
        "steps[0].targets[0]",
    ),
    ("empty target", lambda: {"steps": [{"targets": [{}]}]}, "steps[0].targets[0]"),
    (
        "same target twice",
        lambda: {"steps": [{"targets": [{"user": "responder"}, {"user": "responder"}]}]},
        "steps[0].targets[1]",
    ),
    ("fallback outside the team", lambda: {"fallback_user": "outsider"}, "fallback_user"),
    ("fallback not a name", lambda: {"fallback_user": 5}, "fallback_user"),
    ("team not yours", lambda: {"team": "other"}, "team"),
    ("no team", lambda: {"team": None}, "team"),
]


@pytest.mark.parametrize(("changes", "field"), [pytest.param(c, f, id=i) for i, c, f in INVALID])
def test_it_refuses_invalid_policies_naming_the_field(manager_client, changes, field):
    response = post(manager_client, body(**changes()))
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert isinstance(errors[field], list) and errors[field][0]
    assert not EscalationPolicy.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="escalation_policy").exists()


def test_it_refuses_a_body_that_is_not_an_object(manager_client):
    response = manager_client.post(URL, "[1, 2]", content_type=JSON)
    assert response.status_code == 400 and "non_field_errors" in response.json()


def test_names_are_unique_in_a_team(manager_client):
    assert post(manager_client, body()).status_code == 201
    again = post(manager_client, body(name="primary"))
    assert again.status_code == 400 and "already has a policy" in again.json()["name"][0]


def test_put_replaces_the_whole_policy_and_patch_changes_only_what_it_names(manager_client, users):
    created = post(manager_client, body()).json()
    detail = f"{URL}{created['id']}/"
    replaced = manager_client.put(
        detail,
        {"name": "Night", "steps": [{"delay_seconds": 120, "targets": [{"user": "manager"}]}]},
        content_type=JSON,
    )
    assert replaced.status_code == 200, replaced.content
    data = replaced.json()
    assert data["name"] == "Night" and data["repeat"] == 0 and data["fallback_user"] is None
    assert data["steps"] == [{"delay_seconds": 120, "targets": [{"user": "manager"}]}]

    patched = manager_client.patch(detail, {"repeat": 3}, content_type=JSON)
    assert patched.status_code == 200
    assert patched.json()["repeat"] == 3 and patched.json()["steps"] == data["steps"]
    entries = AuditEntry.objects.filter(action="escalation_policy.updated").order_by("id")
    assert [e.changes.get("repeat") for e in entries] == [[1, 0], [0, 3]]
    assert entries[0].changes["name"] == ["Primary", "Night"]

    missing = manager_client.put(detail, {"name": "Only a name"}, content_type=JSON)
    assert missing.status_code == 400 and "steps" in missing.json()
    bad = manager_client.patch(
        detail, {"steps": [{"targets": [{"user": "viewer"}]}]}, content_type=JSON
    )
    assert bad.status_code == 400 and "steps[0].targets[0].user" in bad.json()
    assert manager_client.get(detail).json()["steps"] == data["steps"]


def test_a_policy_never_moves_to_another_team(manager_client, users):
    created = post(manager_client, body()).json()
    make_membership(Team.objects.get(slug="other"), users["manager"], role=Role.MANAGER)
    response = manager_client.patch(f"{URL}{created['id']}/", {"team": "other"}, content_type=JSON)
    assert response.status_code == 400 and "team" in response.json()
    assert EscalationPolicy.objects.get().team.slug == "payments"


def test_services_use_a_policy_through_the_services_api(manager_client, users, service):
    created = post(manager_client, body()).json()
    response = manager_client.patch(
        "/api/v1/services/checkout/", {"escalation_policy": created["id"]}, content_type=JSON
    )
    assert response.status_code == 200, response.content
    assert response.json()["escalation_policy"] == created["id"]
    service.refresh_from_db()
    assert service.escalation_policy_id == created["id"]
    assert manager_client.get(f"{URL}{created['id']}/").json()["services"] == ["checkout"]
    entry = AuditEntry.objects.get(action="service.updated")
    assert entry.changes == {"escalation_policy_id": [None, created["id"]]}


def test_a_service_cannot_use_another_teams_policy(manager_client, users, service):
    theirs = make_policy(Team.objects.get(slug="other"), (0, [users["outsider"]]))
    response = manager_client.patch(
        "/api/v1/services/checkout/", {"escalation_policy": theirs.pk}, content_type=JSON
    )
    assert response.status_code == 400 and "escalation_policy" in response.json()
    service.refresh_from_db()
    assert service.escalation_policy_id is None


def test_a_policy_in_use_cannot_be_deleted(manager_client, service):
    created = post(manager_client, body()).json()
    detail = f"{URL}{created['id']}/"
    manager_client.patch(
        "/api/v1/services/checkout/", {"escalation_policy": created["id"]}, content_type=JSON
    )
    refused = manager_client.delete(detail)
    assert refused.status_code == 409
    assert "Checkout" in refused.json()["detail"] and refused.json()["services"] == ["checkout"]
    assert EscalationPolicy.objects.filter(pk=created["id"]).exists()

    manager_client.patch(
        "/api/v1/services/checkout/", {"escalation_policy": None}, content_type=JSON
    )
    assert manager_client.delete(detail).status_code == 204
    assert not EscalationPolicy.objects.exists()
    entry = AuditEntry.objects.get(action="escalation_policy.deleted")
    assert entry.changes["name"] == "Primary"


def test_editing_a_policy_leaves_running_escalations_on_their_snapshot(
    manager_client, users, service
):
    for name in ("responder", "manager"):
        make_contact_method(users[name])
    steps = [{"delay_seconds": 0, "targets": [{"user": "responder"}]}]
    created = post(manager_client, body(steps=steps, repeat=0)).json()
    manager_client.patch(
        "/api/v1/services/checkout/", {"escalation_policy": created["id"]}, content_type=JSON
    )
    service.refresh_from_db()
    running = make_alert_incident(service, T0, key="before-edit")
    frozen = IncidentEscalation.objects.get(incident=running).snapshot

    changed = manager_client.put(
        f"{URL}{created['id']}/",
        {"name": "Primary", "steps": [{"delay_seconds": 0, "targets": [{"user": "manager"}]}]},
        content_type=JSON,
    )
    assert changed.status_code == 200
    assert fire(running, T0) == "exhausted"
    assert IncidentEscalation.objects.get(incident=running).snapshot == frozen
    paged = Notification.objects.filter(incident=running).values_list("user__username", flat=True)
    assert list(paged) == ["responder"]

    later = make_alert_incident(service, T0 + timedelta(minutes=1), key="after-edit")
    fire(later, T0 + timedelta(minutes=1))
    paged = Notification.objects.filter(incident=later).values_list("user__username", flat=True)
    assert list(paged) == ["manager"]


def test_a_deleted_policy_leaves_running_escalations_running(manager_client, users, service):
    make_contact_method(users["responder"])
    policy = make_policy(service.team, (0, [users["responder"]]), (60, [users["responder"]]))
    service.escalation_policy = policy
    service.save()
    incident = make_alert_incident(service, T0)
    service.escalation_policy = None
    service.save()
    assert manager_client.delete(f"{URL}{policy.pk}/").status_code == 204
    assert fire(incident, T0) == "fired"
    assert Notification.objects.filter(incident=incident, user=users["responder"]).count() == 1


def test_the_list_filters_by_team_and_pages(manager_client, users, team):
    make_policy(team, (0, [users["responder"]]), name="A")
    make_policy(team, (0, [users["manager"]]), name="B")
    data = manager_client.get(URL, {"team": "payments"}).json()
    assert data["count"] == 2 and [p["name"] for p in data["results"]] == ["A", "B"]
    assert manager_client.get(URL, {"team": "other"}).json()["count"] == 0


def test_the_list_queries_do_not_grow_with_policies(
    manager_client, users, team, django_assert_max_num_queries
):
    schedule = make_schedule(team, name="Rota")

    def add(n):
        for i in range(n):
            make_policy(
                team,
                (0, [users["responder"], ("schedule", schedule.pk)]),
                (60, [users["manager"]]),
                name=f"P{EscalationPolicy.objects.count()}-{i}",
                fallback=users["manager"],
            )

    add(1)
    with django_assert_max_num_queries(12) as few:
        assert manager_client.get(URL).status_code == 200
    add(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = manager_client.get(URL)
    assert response.json()["count"] == 9
