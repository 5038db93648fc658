"""The drill API that chaos tooling drives: create, inject, restore, finish, attach, detach,
review. Roles: managers create, responders drive, viewers read, outsiders see nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import EventKind, IncidentEvent
from incidents.tests.factories import make_incident, make_service
from metrics.models import Drill, DrillIncident, DrillService
from metrics.tests.factories import make_drill
from oncall.models import Team
from tests.support import utc

pytestmark = pytest.mark.django_db

T0 = utc(2026, 11, 2, 10, 0, 0, 250_000)


def post(client, url, body=None):
    return client.post(url, body or {}, content_type="application/json")


@pytest.fixture
def api_service(service):
    return make_service(service.team, "payments-api", "Payments API")


def create_body(**overrides):
    body = {
        "team": "payments",
        "name": "Primary DB failover",
        "scenario": "Kill the primary; the replica takes over.",
        "grace_seconds": 600,
        "services": [
            {"service": "checkout", "max_mttd_seconds": 120, "max_mttr_seconds": 1800},
            {"service": "payments-api", "max_mttd_seconds": 300},
        ],
    }
    body.update(overrides)
    return body


def test_it_lets_a_manager_create_a_drill_with_targets(client, users, api_service):
    client.force_login(users["manager"])
    response = post(client, "/api/v1/drills/", create_body())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Primary DB failover"
    assert body["status"] == "planned" and body["grace_seconds"] == 600
    assert [
        (s["service"], s["max_mttd_seconds"], s["max_mttr_seconds"]) for s in body["services"]
    ] == [
        ("checkout", 120, 1800),
        ("payments-api", 300, None),
    ]
    drill = Drill.objects.get(pk=body["id"])
    assert drill.created_by == users["manager"] and drill.team.slug == "payments"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"services": []}, "services"),
        ({"services": [{"service": "nope"}]}, "services"),
        ({"services": [{"service": "checkout", "max_mttd_seconds": -1}]}, "services"),
        ({"grace_seconds": "soon"}, "grace_seconds"),
        ({"team": "elsewhere"}, "team"),
        ({"services": [{"service": "checkout"}, {"service": "checkout"}]}, "services"),
    ],
)
def test_it_names_the_bad_field_when_creating(client, users, api_service, overrides, field):
    client.force_login(users["manager"])
    response = post(client, "/api/v1/drills/", create_body(**overrides))
    assert response.status_code == 400
    assert field in response.json()
    assert not Drill.objects.exists()


def test_only_managers_create_and_outsiders_cannot_name_the_team(client, users, api_service):
    for role in ("responder", "viewer"):
        client.force_login(users[role])
        assert post(client, "/api/v1/drills/", create_body()).status_code == 403
    client.force_login(users["outsider"])
    response = post(client, "/api/v1/drills/", create_body())
    assert response.status_code == 400 and response.json() == {"team": ["no such team"]}
    assert not Drill.objects.exists()


def test_it_records_the_injection_at_the_moment_the_request_arrives(client, users, service):
    drill = make_drill(service.team, (service, 60, 600))
    client.force_login(users["responder"])
    before = timezone.now()
    response = post(client, f"/api/v1/drills/{drill.pk}/inject", {"service": "checkout"})
    after = timezone.now()
    assert response.status_code == 200, response.content
    target = DrillService.objects.get(drill=drill)
    assert before <= target.injected_at <= after
    assert response.json()["services"][0]["injected_at"] == target.injected_at.isoformat().replace(
        "+00:00", "Z"
    )
    drill.refresh_from_db()
    assert drill.status == Drill.Status.RUNNING


def test_it_keeps_a_given_time_to_the_microsecond(client, users, service):
    drill = make_drill(service.team, (service, 60, 600))
    client.force_login(users["responder"])
    response = post(
        client,
        f"/api/v1/drills/{drill.pk}/inject",
        {"service": "checkout", "at": "2026-11-02T11:00:00.250001+01:00"},
    )
    assert response.status_code == 200
    assert DrillService.objects.get().injected_at == T0 + timedelta(microseconds=1)
    response = post(
        client,
        f"/api/v1/drills/{drill.pk}/restore/",
        {"service": "checkout", "at": "2026-11-02T10:15:00.000007Z"},
    )
    assert response.status_code == 200
    assert DrillService.objects.get().restored_at == utc(2026, 11, 2, 10, 15, 0, 7)


@pytest.mark.parametrize(
    ("steps", "status", "needle"),
    [
        ([("inject", {"service": "checkout"})] * 2, 409, "already injected"),
        ([("restore", {"service": "checkout"})], 409, "no fault was injected"),
        ([("inject", {"service": "nope"})], 400, "service"),
        ([("inject", {"service": "payments-api"})], 400, "not part of this drill"),
        ([("inject", {})], 400, "service"),
        ([("inject", {"service": "checkout", "at": "2026-11-02T10:00:00"})], 400, "zone offset"),
        ([("inject", {"service": "checkout", "at": "yesterday"})], 400, "at"),
        ([("inject", {"service": "checkout", "at": "2999-01-01T00:00:00Z"})], 400, "future"),
        (
            [
                ("inject", {"service": "checkout", "at": "2026-11-02T10:00:00Z"}),
                ("restore", {"service": "checkout", "at": "2026-11-02T09:59:59Z"}),
            ],
            400,
            "before the injection",
        ),
        (
            [
                ("inject", {"service": "checkout"}),
                ("restore", {"service": "checkout"}),
                ("restore", {"service": "checkout"}),
            ],
            409,
            "already restored",
        ),
        ([("finish", {}), ("finish", {})], 409, "already finished"),
        ([("finish", {}), ("inject", {"service": "checkout"})], 409, "is finished"),
    ],
)
def test_it_refuses_actions_that_do_not_fit(client, users, api_service, steps, status, needle):
    service = api_service.team.services.get(slug="checkout")
    drill = make_drill(service.team, (service, 60, 600))
    client.force_login(users["responder"])
    *setup, (action, body) = steps
    for step, step_body in setup:
        assert post(client, f"/api/v1/drills/{drill.pk}/{step}", step_body).status_code == 200
    response = post(client, f"/api/v1/drills/{drill.pk}/{action}", body)
    assert response.status_code == status
    assert needle in response.content.decode()


def test_viewers_read_and_outsiders_get_404(client, users, service):
    drill = make_drill(service.team, (service, 60, 600))
    client.force_login(users["viewer"])
    assert client.get(f"/api/v1/drills/{drill.pk}/review").status_code == 200
    assert client.get("/api/v1/drills/").json()["count"] == 1
    response = post(client, f"/api/v1/drills/{drill.pk}/inject", {"service": "checkout"})
    assert response.status_code == 403
    client.force_login(users["outsider"])
    assert client.get("/api/v1/drills/").json()["count"] == 0
    for path in ("", "review", "inject", "finish", "attach"):
        url = f"/api/v1/drills/{drill.pk}/{path}"
        response = client.get(url) if path in ("", "review") else post(client, url, {})
        assert response.status_code == 404, url
    assert DrillService.objects.get().injected_at is None


def test_a_responder_attaches_and_detaches_by_hand(client, users, api_service):
    service = api_service.team.services.get(slug="checkout")
    drill = make_drill(service.team, (service, 60, 600))
    incident = make_incident(service, detected=T0)
    client.force_login(users["responder"])

    response = post(client, f"/api/v1/drills/{drill.pk}/attach", {"incident": incident.pk})
    assert response.status_code == 200
    assert response.json()["services"][0]["incidents"][0]["id"] == incident.pk
    attachment = DrillIncident.objects.get()
    assert (attachment.automatic, attachment.attached_by) == (False, users["responder"])
    again = post(client, f"/api/v1/drills/{drill.pk}/attach", {"incident": incident.pk})
    assert again.status_code == 409 and "already attached to this drill" in again.json()["detail"]

    assert (
        post(client, f"/api/v1/drills/{drill.pk}/detach", {"incident": incident.pk}).status_code
        == 200
    )
    assert not DrillIncident.objects.exists()
    gone = post(client, f"/api/v1/drills/{drill.pk}/detach", {"incident": incident.pk})
    assert gone.status_code == 409

    kinds = list(
        IncidentEvent.objects.filter(incident=incident)
        .order_by("seq")
        .values_list("kind", "actor", "data")
    )
    assert kinds[-2:] == [
        (
            EventKind.DRILL_ATTACHED,
            users["responder"].pk,
            {"drill_id": drill.pk, "drill_name": "Failover", "automatic": False},
        ),
        (
            EventKind.DRILL_DETACHED,
            users["responder"].pk,
            {"drill_id": drill.pk, "drill_name": "Failover", "automatic": False},
        ),
    ]
    incident.refresh_from_db()
    assert incident.status == "triggered"  # the timeline entry changes no state


def test_it_refuses_to_attach_incidents_of_other_services_or_teams(client, users, api_service):
    service = api_service.team.services.get(slug="checkout")
    drill = make_drill(service.team, (service, 60, 600))
    undrilled = make_incident(api_service, detected=T0)
    other = make_service(Team.objects.get(slug="other"), "ledger")
    foreign = make_incident(other, detected=T0)
    client.force_login(users["responder"])
    for incident, needle in ((undrilled, "not part of the drill"), (foreign, "no such incident")):
        response = post(client, f"/api/v1/drills/{drill.pk}/attach", {"incident": incident.pk})
        assert response.status_code == 400
        assert needle in response.json()["incident"][0]
    response = post(client, f"/api/v1/drills/{drill.pk}/attach", {"incident": "x"})
    assert response.status_code == 400 and "incident" in response.json()
    assert not DrillIncident.objects.exists()


def test_the_review_counts_from_the_injection(client, users, api_service):
    service = api_service.team.services.get(slug="checkout")
    drill = make_drill(service.team, (service, 120, 1800), (api_service, 60, None))
    client.force_login(users["responder"])
    post(client, f"/api/v1/drills/{drill.pk}/inject", {"service": "checkout", "at": T0.isoformat()})
    post(
        client,
        f"/api/v1/drills/{drill.pk}/inject",
        {"service": "payments-api", "at": T0.isoformat()},
    )
    incident = make_incident(
        service,
        detected=T0 + timedelta(seconds=95.5),
        acked=T0 + timedelta(seconds=130),
        resolved=T0 + timedelta(seconds=1200),
    )
    post(client, f"/api/v1/drills/{drill.pk}/attach", {"incident": incident.pk})
    later = (T0 + timedelta(seconds=900)).isoformat()
    post(client, f"/api/v1/drills/{drill.pk}/restore", {"service": "checkout", "at": later})
    post(client, f"/api/v1/drills/{drill.pk}/restore", {"service": "payments-api", "at": later})
    assert post(client, f"/api/v1/drills/{drill.pk}/finish").status_code == 200

    review = client.get(f"/api/v1/drills/{drill.pk}/review").json()
    assert review["result"] == "fail"
    assert review["missed_detections"] == ["payments-api"]
    checkout, api = sorted(review["services"], key=lambda s: s["service"])
    assert checkout["injected_at"] == "2026-11-02T10:00:00.250000Z"
    assert checkout["detected_at"] == "2026-11-02T10:01:35.750000Z"
    assert (checkout["mttd_seconds"], checkout["mtta_seconds"], checkout["mttr_seconds"]) == (
        95.5,
        34.5,
        1200.0,
    )
    assert (checkout["mttd_result"], checkout["mttr_result"], checkout["passed"]) == (
        "pass",
        "pass",
        True,
    )
    assert checkout["restored_at"] == "2026-11-02T10:15:00.250000Z"
    assert [p["mttd_seconds"] for p in checkout["history"]] == [95.5]
    assert api["missed"] is True and api["mttd_result"] == "missed" and api["passed"] is False


def test_the_list_does_not_grow_queries_with_drills(
    client, users, api_service, django_assert_max_num_queries
):
    service = api_service.team.services.get(slug="checkout")
    make_drill(service.team, (service, 60, 600))
    client.force_login(users["viewer"])
    with django_assert_max_num_queries(20) as few:
        assert client.get("/api/v1/drills/").status_code == 200
    for n in range(6):
        make_drill(service.team, (service, 60, 600), (api_service, None, None), name=f"D{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get("/api/v1/drills/").json()
    assert body["count"] == 7
