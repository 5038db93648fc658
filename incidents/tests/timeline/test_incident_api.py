"""The incidents API: same rules as the pages, answered as JSON with the right status."""

import pytest

from incidents.models import Incident, IncidentStatus
from incidents.tests.factories import make_incidents
from incidents.timeline import actions

pytestmark = pytest.mark.django_db

API = "/api/v1/incidents/"


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_it_needs_a_login(client):
    assert client.get(API).status_code == 401


def test_the_list_filters_orders_and_pages(client, users, service, other_service):
    checkout = make_incidents(service, users["responder"], 3)
    api = make_incidents(other_service, users["responder"], 2, start=3, severity="critical")
    actions.incident_resolve(incident_id=checkout[0].pk, user=users["responder"])
    client.force_login(users["viewer"])

    everything = client.get(API)
    assert everything.status_code == 200
    assert everything.json()["count"] == 5
    assert ids(everything) == [i.pk for i in reversed(checkout + api)]
    assert ids(client.get(API, {"service": "payments-api"})) == [api[1].pk, api[0].pk]
    assert ids(client.get(API, {"status": "resolved"})) == [checkout[0].pk]
    assert len(ids(client.get(API, {"status": "open"}))) == 4
    assert len(ids(client.get(API, {"severity": "critical"}))) == 2
    window = {"since": "2026-11-26T11:00:00Z", "until": "2026-11-26T13:00:00+00:00"}
    assert ids(client.get(API, window)) == [checkout[2].pk, checkout[1].pk]
    assert ids(client.get(API, {"ordering": "detected_at"}))[0] == checkout[0].pk
    assert ids(client.get(API, {"ordering": "severity"}))[:2] == [api[1].pk, api[0].pk]
    paged = client.get(API, {"page_size": 2, "page": 2}).json()
    assert [r["id"] for r in paged["results"]] == [checkout[2].pk, checkout[1].pk]
    assert paged["next"] and paged["previous"]


def test_a_row_has_the_documented_shape(client, users, service):
    incident = make_incidents(service, users["responder"], 1)[0]
    actions.incident_assign(
        incident_id=incident.pk, user=users["manager"], assignee_id=users["responder"].pk
    )
    client.force_login(users["viewer"])
    row = client.get(API).json()["results"][0]
    assert row["service"] == {"slug": "checkout", "name": "Checkout"}
    assert row["team"] == "payments"
    assert row["assignee"] == {"id": users["responder"].pk, "username": "responder"}
    assert row["detected_at"] == "2026-11-26T10:00:00Z"
    assert row["acknowledged_at"] is None
    assert row["url"] == f"/incidents/{incident.pk}/"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "sleeping"}, "status"),
        ({"severity": "meh"}, "severity"),
        ({"since": "last tuesday"}, "since"),
        ({"since": "2026-11-27T00:00:00Z", "until": "2026-11-26T00:00:00Z"}, "until"),
        ({"ordering": "title"}, "ordering"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(client, users, params, field):
    client.force_login(users["viewer"])
    response = client.get(API, params)
    assert response.status_code == 400
    assert field in response.json()


def test_the_list_query_count_does_not_grow(
    client, users, service, other_service, django_assert_max_num_queries
):
    make_incidents(service, users["responder"], 2)
    client.force_login(users["viewer"])
    with django_assert_max_num_queries(10) as few:
        client.get(API)
    for incident in make_incidents(other_service, users["responder"], 20, start=2)[:10]:
        actions.incident_assign(
            incident_id=incident.pk, user=users["manager"], assignee_id=users["responder"].pk
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(API)
    assert response.json()["count"] == 22


def test_outsiders_get_404_and_see_nothing(client, users, service):
    incident = make_incidents(service, users["responder"], 1)[0]
    client.force_login(users["outsider"])
    assert client.get(API).json()["count"] == 0
    for url in (f"{API}{incident.pk}/", f"{API}{incident.pk}/timeline/"):
        assert client.get(url).status_code == 404
    assert client.post(f"{API}{incident.pk}/acknowledge/").status_code == 404
    created = client.post(
        API, {"service": "checkout", "title": "x", "severity": "error"}, "application/json"
    )
    assert created.status_code == 400 and created.json() == {"service": ["no such service"]}


def test_the_detail_and_the_timeline(client, users, service):
    incident = make_incidents(service, users["responder"], 1)[0]
    actions.incident_add_note(incident_id=incident.pk, user=users["responder"], text="_hmm_")
    client.force_login(users["viewer"])
    detail = client.get(f"{API}{incident.pk}/").json()
    assert (detail["id"], detail["status"], detail["last_seq"]) == (incident.pk, "triggered", 2)
    timeline = client.get(f"{API}{incident.pk}/timeline/").json()
    assert [e["kind"] for e in timeline["results"]] == ["triggered", "note"]
    note = timeline["results"][1]
    assert (note["actor"], note["data"], note["html"]) == (
        "responder",
        {"text": "_hmm_"},
        "<p><em>hmm</em></p>",
    )
    newer = client.get(f"{API}{incident.pk}/timeline/", {"after": 1}).json()
    assert [e["seq"] for e in newer["results"]] == [2]
    assert client.get(f"{API}{incident.pk}/timeline/", {"after": -1}).status_code == 400


def test_a_manual_incident_is_created(client, users, service):
    client.force_login(users["responder"])
    response = client.post(
        API,
        {
            "service": "checkout",
            "title": "Refunds stuck",
            "severity": "critical",
            "description": "From *support*",
            "impact_started_at": "2026-11-26T08:15:00+01:00",
        },
        "application/json",
    )
    assert response.status_code == 201
    body = response.json()
    incident = Incident.objects.get(pk=body["id"])
    assert incident.title == "Refunds stuck" and body["status"] == "triggered"
    assert body["impact_started_at"] == "2026-11-26T07:15:00Z"
    assert incident.events.get().actor == users["responder"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "x"}, "service"),
        ({"service": "checkout", "severity": "error"}, "title"),
        ({"service": "checkout", "title": " ", "severity": "error"}, "title"),
        ({"service": "checkout", "title": "x", "severity": "awful"}, "severity"),
        (
            {"service": "checkout", "title": "x", "severity": "error", "impact_started_at": "soon"},
            "impact_started_at",
        ),
        (
            {
                "service": "checkout",
                "title": "x",
                "severity": "error",
                "impact_started_at": "2999-01-01T00:00:00Z",
            },
            "impact_started_at",
        ),
    ],
)
def test_a_bad_manual_incident_is_a_400_naming_the_field(client, users, service, payload, field):
    client.force_login(users["responder"])
    response = client.post(API, payload, "application/json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Incident.objects.exists()


def test_viewers_may_not_create(client, users, service):
    client.force_login(users["viewer"])
    response = client.post(
        API, {"service": "checkout", "title": "x", "severity": "error"}, "application/json"
    )
    assert response.status_code == 403


def act(client, incident, action, payload=None):
    return client.post(f"{API}{incident.pk}/{action}/", payload or {}, "application/json")


def test_each_action_works_from_the_api(client, users, service):
    incident = make_incidents(service, users["manager"], 1)[0]
    client.force_login(users["responder"])
    steps = [
        ("acknowledge", {}, {"status": "acknowledged"}),
        ("unacknowledge", {}, {"status": "triggered", "acknowledged_at": None}),
        ("severity", {"severity": "warning"}, {"severity": "warning"}),
        (
            "assign",
            {"assignee": users["responder"].pk},
            {"assignee": {"id": users["responder"].pk, "username": "responder"}},
        ),
        ("assign", {"assignee": None}, {"assignee": None}),
        (
            "impact-start",
            {"impact_started_at": "2026-11-26T09:30:00Z", "reason": "logs"},
            {
                "impact_started_at": "2026-11-26T09:30:00Z",
                "impact_corrected_at": "2026-11-26T09:30:00Z",
            },
        ),
        ("resolve", {"reason": "fixed"}, {"status": "resolved"}),
        ("reopen", {"reason": "again"}, {"status": "triggered", "resolved_at": None}),
    ]
    for action, payload, expected in steps:
        response = act(client, incident, action, payload)
        assert response.status_code == 200, (action, response.json())
        body = response.json()
        assert {k: body[k] for k in expected} == expected, action
        assert incident.events.last().actor == users["responder"]
    note = act(client, incident, "notes", {"text": "**done**"})
    assert note.status_code == 201
    assert note.json()["html"] == "<p><strong>done</strong></p>"
    assert incident.events.last().data == {"text": "**done**"}


@pytest.mark.parametrize(
    ("action", "payload", "message"),
    [
        ("unacknowledge", {}, "not acknowledged"),
        ("reopen", {}, "triggered, not resolved"),
        ("severity", {"severity": "error"}, "already error"),
        ("assign", {"assignee": None}, "already unassigned"),
    ],
)
def test_a_wrong_transition_is_a_409(client, users, service, action, payload, message):
    incident = make_incidents(service, users["manager"], 1)[0]
    client.force_login(users["responder"])
    response = act(client, incident, action, payload)
    assert response.status_code == 409
    assert message in response.json()["detail"]


def test_acting_twice_is_a_409_not_a_500(client, users, service):
    incident = make_incidents(service, users["manager"], 1)[0]
    client.force_login(users["responder"])
    assert act(client, incident, "resolve").status_code == 200
    again = act(client, incident, "resolve")
    assert again.status_code == 409
    assert again.json() == {"detail": f"incident #{incident.pk} is already resolved"}


@pytest.mark.parametrize(
    ("action", "payload", "field"),
    [
        ("notes", {}, "text"),
        ("notes", {"text": "  "}, "text"),
        ("severity", {"severity": "loud"}, "severity"),
        ("assign", {}, "assignee"),
        ("assign", {"assignee": "bob"}, "assignee"),
        ("assign", {"assignee": "VIEWER"}, "assignee"),
        ("impact-start", {"reason": "x"}, "impact_started_at"),
        (
            "impact-start",
            {"impact_started_at": "2999-01-01T00:00:00Z", "reason": "x"},
            "impact_started_at",
        ),
        ("impact-start", {"impact_started_at": "2026-11-26T09:00:00Z", "reason": ""}, "reason"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_field(client, users, service, action, payload, field):
    incident = make_incidents(service, users["manager"], 1)[0]
    if payload.get("assignee") == "VIEWER":
        payload = {"assignee": users["viewer"].pk}
    client.force_login(users["responder"])
    response = act(client, incident, action, payload)
    assert response.status_code == 400
    assert field in response.json()
    assert incident.events.count() == 1


@pytest.mark.parametrize(
    "action",
    [
        "acknowledge",
        "unacknowledge",
        "resolve",
        "reopen",
        "notes",
        "severity",
        "assign",
        "impact-start",
    ],
)
def test_a_viewer_acting_gets_403(client, users, service, action):
    incident = make_incidents(service, users["manager"], 1)[0]
    client.force_login(users["viewer"])
    payload = {
        "notes": {"text": "x"},
        "severity": {"severity": "info"},
        "assign": {"assignee": None},
        "impact-start": {"impact_started_at": "2026-11-26T09:00:00Z", "reason": "x"},
    }.get(action, {})
    response = act(client, incident, action, payload)
    assert response.status_code == 403
    assert incident.events.count() == 1


def test_an_unknown_action_is_404(client, users, service):
    incident = make_incidents(service, users["manager"], 1)[0]
    client.force_login(users["responder"])
    assert act(client, incident, "explode").status_code == 404
    assert client.get(f"{API}{incident.pk}/acknowledge/").status_code == 405
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.TRIGGERED
