"""The incident pages: list, detail with its actions, the JSON it polls, manual incidents."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from incidents.models import Incident, IncidentStatus
from incidents.tests.factories import make_incidents
from incidents.timeline import actions

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def rows(response) -> list[str]:
    return re.findall(r'<tr data-incident="(\d+)"', response.content.decode())


# --- list -------------------------------------------------------------------------------------


def test_it_needs_a_login(client):
    for url in ("/incidents/", "/incidents/new", "/incidents/1/", "/incidents/1/state.json"):
        assert client.get(url).status_code == 302


def test_the_list_filters_and_counts(client, users, service, other_service):
    checkout = make_incidents(service, users["responder"], 3, title="Checkout")
    api = make_incidents(
        other_service, users["responder"], 2, start=3, severity="critical", title="Api"
    )
    actions.incident_resolve(incident_id=checkout[0].pk, user=users["responder"])
    actions.incident_acknowledge(incident_id=api[0].pk, user=users["responder"])
    client.force_login(users["viewer"])

    everything = client.get("/incidents/")
    assert rows(everything) == [str(i.pk) for i in reversed(checkout + api)]
    assert re.search(r"<strong>5</strong> incidents", everything.content.decode())
    assert "3 triggered" in everything.content.decode()

    by_service = client.get("/incidents/", {"service": "payments-api"})
    assert rows(by_service) == [str(api[1].pk), str(api[0].pk)]
    assert re.search(r"<strong>2</strong> incidents", by_service.content.decode())

    assert rows(client.get("/incidents/", {"status": "resolved"})) == [str(checkout[0].pk)]
    assert len(rows(client.get("/incidents/", {"status": "open"}))) == 4
    assert len(rows(client.get("/incidents/", {"severity": "critical"}))) == 2
    window = {"since": "2026-11-26T11:00", "until": "2026-11-26T13:00"}
    assert rows(client.get("/incidents/", window)) == [str(checkout[2].pk), str(checkout[1].pk)]
    oldest = client.get("/incidents/", {"ordering": "detected_at"})
    assert rows(oldest)[0] == str(checkout[0].pk)
    worst = client.get("/incidents/", {"ordering": "severity"})
    assert rows(worst)[:2] == [str(api[1].pk), str(api[0].pk)]


def test_a_bad_filter_is_shown_not_a_crash(client, users, service):
    make_incidents(service, users["responder"], 1)
    client.force_login(users["viewer"])
    response = client.get("/incidents/", {"severity": "apocalyptic", "since": "yesterday-ish"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Select a valid choice" in body and "Enter a valid date/time" in body
    backwards = client.get(
        "/incidents/", {"since": "2026-11-27T00:00", "until": "2026-11-26T00:00"}
    )
    assert "must be after" in backwards.content.decode()


def test_the_list_pages(client, users, service):
    make_incidents(service, users["responder"], 30)
    client.force_login(users["viewer"])
    first = client.get("/incidents/", {"ordering": "detected_at"})
    assert len(rows(first)) == 25
    assert "Page 1 of 2" in first.content.decode()
    second = client.get("/incidents/", {"ordering": "detected_at", "page": 2})
    assert len(rows(second)) == 5
    assert "ordering=detected_at&amp;page=1" in second.content.decode()


def test_the_list_query_count_does_not_grow(
    client, users, service, other_service, django_assert_max_num_queries
):
    make_incidents(service, users["responder"], 2)
    client.force_login(users["viewer"])
    with django_assert_max_num_queries(12) as few:
        client.get("/incidents/")
    many = make_incidents(other_service, users["responder"], 20, start=2)
    for incident in many[:10]:
        actions.incident_assign(
            incident_id=incident.pk, user=users["manager"], assignee_id=users["responder"].pk
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/incidents/")
    assert len(rows(response)) == 22


def test_outsiders_see_none_of_it(client, users, service):
    incident = make_incidents(service, users["responder"], 1)[0]
    client.force_login(users["outsider"])
    assert rows(client.get("/incidents/")) == []
    assert client.get(f"/incidents/{incident.pk}/").status_code == 404
    assert client.get(f"/incidents/{incident.pk}/state.json").status_code == 404
    assert client.post(f"/incidents/{incident.pk}/acknowledge").status_code == 404


# --- one incident -----------------------------------------------------------------------------


def test_the_page_shows_a_readable_timeline_with_safe_notes(client, users, service):
    incident = make_incidents(service, users["responder"], 1)[0]
    actions.incident_add_note(
        incident_id=incident.pk,
        user=users["responder"],
        text="Rolled back **v2.3**\n\n<script>alert('x')</script><img src=x onerror=alert(1)>",
    )
    actions.incident_set_severity(
        incident_id=incident.pk, user=users["manager"], severity="critical"
    )
    client.force_login(users["viewer"])
    body = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "<strong>v2.3</strong>" in body
    assert "<script>alert" not in body and "onerror" not in body
    assert "Severity changed</strong> — from error to critical" in body
    assert "by responder" in body and "by manager" in body
    assert "Incident 0 (opened by hand)" in body


def test_viewers_get_no_action_forms_and_a_403(client, users, service):
    incident = make_incidents(service, users["responder"], 1)[0]
    client.force_login(users["viewer"])
    body = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "/acknowledge" not in body and "Add a note" not in body
    assert client.post(f"/incidents/{incident.pk}/acknowledge").status_code == 403
    assert client.post(f"/incidents/{incident.pk}/note", {"text": "hi"}).status_code == 403
    assert incident.events.count() == 1


def test_responders_get_every_action(client, users, service):
    incident = make_incidents(service, users["responder"], 1)[0]
    client.force_login(users["responder"])
    body = client.get(f"/incidents/{incident.pk}/").content.decode()
    for action in (
        "acknowledge",
        "unacknowledge",
        "resolve",
        "reopen",
        "note",
        "severity",
        "assign",
        "impact-start",
    ):
        assert f'action="/incidents/{incident.pk}/{action}"' in body, action
    # Only the ones that apply now are visible; the page script shows the others later.
    assert re.search(r'/acknowledge" data-show-when="triggered">', body)
    assert re.search(r'/reopen" data-show-when="resolved" hidden>', body)
    assert '<option value="{}">responder</option>'.format(users["responder"].pk) in body
    assert ">viewer</option>" not in body


def test_the_notifications_partial_is_included(client, users, service, settings, tmp_path):
    incident = make_incidents(service, users["responder"], 1)[0]
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents" / "_notifications.html").write_text("NOTIFY {{ incident.pk }}")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    client.force_login(users["viewer"])
    assert f"NOTIFY {incident.pk}" in client.get(f"/incidents/{incident.pk}/").content.decode()


HTML_ACTIONS = [
    # action, form data, what the row or the timeline shows afterwards
    ("acknowledge", {}, lambda i: i.status == IncidentStatus.ACKNOWLEDGED),
    ("resolve", {"reason": "fixed"}, lambda i: i.status == IncidentStatus.RESOLVED),
    ("note", {"text": "*looking*"}, lambda i: i.events.last().data == {"text": "*looking*"}),
    ("severity", {"severity": "info"}, lambda i: i.severity == "info"),
    ("impact-start", {"impact_started_at": "2026-11-26T09:30", "reason": "logs"}, None),
    ("assign", {"assignee": "RESPONDER"}, None),
]


@pytest.mark.parametrize(("action", "data", "check"), HTML_ACTIONS)
def test_each_action_works_from_the_page(client, users, service, action, data, check):
    incident = make_incidents(service, users["manager"], 1)[0]
    if data.get("assignee") == "RESPONDER":
        data = {"assignee": users["responder"].pk}
    client.force_login(users["responder"])
    response = client.post(f"/incidents/{incident.pk}/{action}", data, follow=True)
    assert response.redirect_chain[-1][0] == f"/incidents/{incident.pk}/"
    incident.refresh_from_db()
    assert incident.events.last().actor == users["responder"]
    if check:
        assert check(incident)
    if action == "impact-start":
        assert incident.impact_started_at == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    if action == "assign":
        assert incident.assignee == users["responder"]


def test_unacknowledge_and_reopen_from_the_page(client, users, service):
    incident = make_incidents(service, users["manager"], 1)[0]
    client.force_login(users["responder"])
    for action, status in [
        ("acknowledge", "acknowledged"),
        ("unacknowledge", "triggered"),
        ("resolve", "resolved"),
        ("reopen", "triggered"),
    ]:
        client.post(f"/incidents/{incident.pk}/{action}")
        incident.refresh_from_db()
        assert incident.status == status, action


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("unacknowledge", {}, "not acknowledged"),
        ("reopen", {}, "not resolved"),
        ("note", {"text": " "}, "text: a note cannot be empty"),
        ("severity", {"severity": "bad"}, "severity: Select a valid choice"),
        ("assign", {"assignee": "VIEWER"}, "assignee: must be a responder or manager"),
        ("assign", {"assignee": "abc"}, "assignee: Enter a whole number"),
        ("impact-start", {"impact_started_at": "2999-01-01T00:00", "reason": "x"}, "future"),
        ("impact-start", {"impact_started_at": "2026-11-26T09:00", "reason": ""}, "reason: say"),
        ("impact-start", {"reason": "x"}, "impact started at: This field is required"),
    ],
)
def test_a_refused_action_is_a_message_not_an_error(client, users, service, action, data, message):
    incident = make_incidents(service, users["manager"], 1)[0]
    if data.get("assignee") == "VIEWER":
        data = {"assignee": users["viewer"].pk}
    client.force_login(users["responder"])
    response = client.post(f"/incidents/{incident.pk}/{action}", data, follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert incident.events.count() == 1


def test_an_unknown_action_is_404(client, users, service):
    incident = make_incidents(service, users["manager"], 1)[0]
    client.force_login(users["responder"])
    assert client.post(f"/incidents/{incident.pk}/explode").status_code == 404
    assert client.get(f"/incidents/{incident.pk}/acknowledge").status_code == 405


def test_the_state_json_gives_the_status_and_what_is_new(client, users, service):
    incident = make_incidents(service, users["manager"], 1)[0]
    actions.incident_acknowledge(incident_id=incident.pk, user=users["responder"])
    actions.incident_add_note(incident_id=incident.pk, user=users["responder"], text="**ok**")
    client.force_login(users["viewer"])
    state = client.get(f"/incidents/{incident.pk}/state.json", {"since": 1}).json()
    assert state["status"] == "acknowledged" and state["is_open"] is True
    assert state["last_seq"] == 3
    assert [e["kind"] for e in state["events"]] == ["acknowledged", "note"]
    assert state["events"][1]["html"] == "<p><strong>ok</strong></p>"
    assert state["events"][1]["actor"] == "responder"
    assert state["times"]["acknowledged_at"]["at"] is not None
    assert state["times"]["resolved_at"] == {"at": None, "display": ""}
    assert client.get(f"/incidents/{incident.pk}/state.json", {"since": 3}).json()["events"] == []
    bad = client.get(f"/incidents/{incident.pk}/state.json", {"since": "x"})
    assert bad.status_code == 400 and "since" in bad.json()


# --- manual incidents -------------------------------------------------------------------------


def test_a_responder_opens_an_incident_by_hand(client, users, service, other_service):
    client.force_login(users["responder"])
    form = client.get("/incidents/new").content.decode()
    assert "Checkout" in form and "Payments API" in form
    response = client.post(
        "/incidents/new",
        {
            "service": other_service.pk,
            "title": "Refunds are stuck",
            "severity": "critical",
            "impact_started_at": "2026-11-26T08:15",
            "description": "Seen by *support*",
        },
    )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/incidents/{incident.pk}/"
    assert (incident.service, incident.title, incident.severity) == (
        other_service,
        "Refunds are stuck",
        "critical",
    )
    assert incident.impact_started_at == datetime(2026, 11, 26, 8, 15, tzinfo=UTC)
    assert incident.events.get().actor == users["responder"]
    page = client.get(response["Location"]).content.decode()
    assert "<em>support</em>" in page


def test_the_manual_form_names_what_is_wrong(client, users, service):
    client.force_login(users["responder"])
    response = client.post(
        "/incidents/new",
        {"service": service.pk, "title": "   ", "severity": "error"},
    )
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    future = client.post(
        "/incidents/new",
        {
            "service": service.pk,
            "title": "Later",
            "severity": "error",
            "impact_started_at": "2999-01-01T00:00",
        },
    )
    assert "cannot be in the future" in future.content.decode()
    assert not Incident.objects.exists()


def test_viewers_cannot_open_incidents(client, users, service):
    client.force_login(users["viewer"])
    form = client.get("/incidents/new").content.decode()
    assert "Only responders and managers" in form
    response = client.post(
        "/incidents/new", {"service": service.pk, "title": "x", "severity": "error"}
    )
    assert response.status_code == 403
    assert not Incident.objects.exists()


def test_the_nav_links_to_the_incidents(client, users):
    client.force_login(users["viewer"])
    assert 'href="/incidents/">All incidents</a>' in client.get("/incidents/").content.decode()


def test_each_responder_event_reads_well(client, users, service):
    incident = make_incidents(service, users["manager"], 1)[0]
    who = {"incident_id": incident.pk, "user": users["manager"]}
    actions.incident_acknowledge(**who)
    actions.incident_unacknowledge(**who)
    actions.incident_assign(**who, assignee_id=users["responder"].pk)
    actions.incident_correct_impact_start(
        **who, impact_started_at=T0 - timedelta(minutes=5), reason="seen in the logs"
    )
    actions.incident_resolve(**who, reason="rolled back")
    actions.incident_reopen(**who, reason="errors again")
    client.force_login(users["viewer"])
    body = client.get(f"/incidents/{incident.pk}/").content.decode()
    for line in (
        "<strong>Acknowledged</strong>",
        "<strong>Acknowledgement withdrawn</strong>",
        "<strong>Assigned</strong> — to responder",
        "<strong>Impact start corrected</strong> — to 2026-11-26 09:55:00 UTC "
        "(was 2026-11-26 10:00:00 UTC): seen in the logs",
        "<strong>Resolved</strong> — rolled back",
        "<strong>Reopened</strong> — errors again",
    ):
        assert line in body, line
