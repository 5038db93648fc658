"""Dashboard, incident page and the feed the dashboard polls."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from incidents.intake import drain, store
from incidents.models import Incident, IncidentStatus
from incidents.timeline import actions
from tests.support import am_alert, am_payload

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def open_incidents(integration, count, *, start=0):
    for n in range(start, start + count):
        payload = am_payload(am_alert(f"Alert{n}"), group_key=f"group-{n}")
        store.delivery_accept(
            integration=integration, body=json.dumps(payload), received_at=T0 + timedelta(minutes=n)
        )
    drain.deliveries_drain()


def test_pages_need_a_login(client, users, integration):
    # Once anyone can sign in (on an empty database pages lead to the first-run page:
    # core/tests/test_first_admin.py).
    for url in ("/", "/incidents/feed.json"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_the_dashboard_lists_open_incidents_by_service(client, users, integration):
    record, _ = integration
    open_incidents(record, 2)
    client.force_login(users["viewer"])
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Checkout" in body
    assert "Alert0 on checkout" in body and "Alert1 on checkout" in body


def test_the_dashboard_query_count_does_not_grow_with_incidents(
    client, users, integration, django_assert_max_num_queries
):
    record, _ = integration
    open_incidents(record, 3)
    client.force_login(users["viewer"])
    # 13: among them the getting-started checklist's one query (metrics.checklist), the
    # navigation's one (the teams whose weekly reports it links), the trend's two for closed
    # weeks not rolled up yet (computed live, as none is here) and the open incidents' two
    # index-ordered reads (the newest open ones, the recently resolved).
    with django_assert_max_num_queries(13) as dashboard:
        client.get("/")
    with django_assert_max_num_queries(8) as feed:
        client.get("/incidents/feed.json")
    open_incidents(record, 12, start=3)
    with django_assert_max_num_queries(len(dashboard.captured_queries)):
        client.get("/")
    with django_assert_max_num_queries(len(feed.captured_queries)):
        client.get("/incidents/feed.json")


def test_outsiders_see_nothing_of_another_team(client, users, integration):
    record, _ = integration
    open_incidents(record, 1)
    incident = Incident.objects.get()
    client.force_login(users["outsider"])
    assert client.get(f"/incidents/{incident.pk}/").status_code == 404
    assert client.get("/incidents/feed.json").json() == {"open": [], "resolved": []}
    assert "Alert0" not in client.get("/").content.decode()


def test_the_incident_page_shows_the_timeline_and_acts(client, users, integration):
    record, _ = integration
    open_incidents(record, 1)
    incident = Incident.objects.get()
    client.force_login(users["responder"])
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Triggered" in page and "Alert firing" in page and "Acknowledge" in page

    client.post(f"/incidents/{incident.pk}/acknowledge")
    client.post(f"/incidents/{incident.pk}/resolve")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED
    assert incident.events.last().actor == users["responder"]

    again = client.post(f"/incidents/{incident.pk}/resolve", follow=True)
    assert "already resolved" in again.content.decode()


def test_the_feed_lists_open_and_resolved(client, users, integration):
    record, _ = integration
    open_incidents(record, 2)
    first = Incident.objects.order_by("pk").first()
    actions.incident_resolve(incident_id=first.pk, user=users["responder"])
    client.force_login(users["viewer"])
    feed = client.get("/incidents/feed.json").json()
    assert [row["title"] for row in feed["open"]] == ["Alert1 on checkout"]
    assert [row["id"] for row in feed["resolved"]] == [first.pk]


def test_static_assets_are_served_locally(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200


def test_plotly_js_is_served_locally(client):
    response = client.get("/static/plotly/plotly.min.js")
    assert response.status_code == 200
    assert b"plotly" in b"".join(response.streaming_content)[:2000].lower()


@pytest.mark.parametrize(
    "key", ["abcdefgh\x00ijklmnop", "ünicode-session-key", "../../../etc/passwd"]
)
def test_a_malformed_session_cookie_is_treated_as_no_session(client, key):
    client.cookies["sessionid"] = key
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_real_session_still_works_with_the_stricter_keys(client, users):
    client.force_login(users["viewer"])
    key = client.cookies["sessionid"].value
    assert key.isascii() and key.isalnum()
    assert client.get("/").status_code == 200
